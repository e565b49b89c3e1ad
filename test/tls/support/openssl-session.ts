/**
 * A TLS session between `openssl s_client` and a Node TLS echo server, through a
 * recording relay: another stack's record splitting, and what only the openssl
 * client does (KeyUpdate on command, -no_etm, chosen groups).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:tls';
import type { TlsOptions } from 'node:tls';
import type { FlowEvent } from '../../../stitcher/flow/events.js';
import { RecordingRelay, testCertificate } from './capture.js';
import { until } from '../../support/until.js';

export interface OpensslSessionOptions {
  /** s_client arguments beyond -connect and -keylogfile. */
  readonly clientArgs: readonly string[];
  readonly server?: TlsOptions;
  /** What the client types, one line at a time; `k` and `K` lines are KeyUpdate commands, not data. */
  readonly lines: readonly string[];
}

export interface OpensslSession {
  readonly events: FlowEvent[];
  readonly keylog: string;
  /** Application bytes the server received and sent. */
  readonly received: Buffer;
  readonly sent: Buffer;
  readonly clientOutput: string;
}

/** openssl answers in milliseconds: a wait this long means it is stuck. */
const OPENSSL_WAIT = { timeoutMs: 2000, intervalMs: 10 };

export async function captureOpensslSession(options: OpensslSessionOptions): Promise<OpensslSession> {
  const { key, cert } = testCertificate();
  const received: Buffer[] = [];
  const sent: Buffer[] = [];
  let receivedBytes = 0;
  const server = createServer({ key, cert, ...options.server }, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      const reply = Buffer.concat([Buffer.from(`echo ${receivedBytes}: `), chunk]);
      sent.push(reply);
      socket.write(reply);
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const relay = new RecordingRelay((server.address() as AddressInfo).port);
  const relayPort = await relay.listen();
  const keylogPath = join(mkdtempSync(join(tmpdir(), 'cloudtap-tls-')), 'client.keys');

  const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${relayPort}`, '-servername', 'tap.test',
    '-keylogfile', keylogPath, ...options.clientArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  client.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  const exited = once(client, 'exit');
  try {
    await until(() => output.includes('---\n') && /Verify return code|Verification/.test(output), 's_client to connect', OPENSSL_WAIT);
    let expected = 0;
    for (const line of options.lines) {
      client.stdin.write(`${line}\n`);
      if (line === 'k' || line === 'K') {
        await sleep(50);
        continue;
      }
      expected += line.length + 1;
      await until(() => receivedBytes >= expected, `the server to receive "${line}"`, OPENSSL_WAIT);
      await sleep(20);
    }
    client.stdin.write('Q\n');
    await exited;
  } finally {
    client.kill();
    relay.close();
  }
  const events = await relay.done();
  server.close();
  return {
    events,
    keylog: readFileSync(keylogPath, 'latin1'),
    received: Buffer.concat(received),
    sent: Buffer.concat(sent),
    clientOutput: output,
  };
}
