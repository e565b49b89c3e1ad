/**
 * TLS 1.3 0-RTT between `openssl s_server` and `openssl s_client`: a first
 * connection gets a ticket, a second resumes with early data; only the second
 * goes through the recording relay.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlowEvent } from '../../../stitcher/flow/events.js';
import { RecordingRelay, testCertificate } from './capture.js';
import { until } from '../../support/until.js';

export interface EarlyDataSession {
  readonly events: FlowEvent[];
  readonly keylog: string;
  readonly serverOutput: string;
  readonly clientOutput: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.close();
  return port;
}

function run(args: readonly string[]): { process: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  return { process: child, output: () => output };
}

/** openssl answers in milliseconds: a wait this long means it is stuck. */
const OPENSSL_WAIT = { timeoutMs: 3000, intervalMs: 10 };

/** `early` is sent as 0-RTT data, `line` after the handshake, `reply` by the server. */
export async function captureEarlyDataSession(early: string, line: string, reply: string): Promise<EarlyDataSession> {
  const { keyPath, certPath } = testCertificate();
  const dir = mkdtempSync(join(tmpdir(), 'cloudtap-0rtt-'));
  const sessionPath = join(dir, 'session.pem');
  const earlyPath = join(dir, 'early.txt');
  writeFileSync(earlyPath, early);
  const port = await freePort();
  const server = run(['s_server', '-accept', `127.0.0.1:${port}`, '-cert', certPath, '-key', keyPath, '-tls1_3',
    '-early_data', '-max_early_data', '16384', '-keylogfile', join(dir, 'server.keys')]);
  try {
    await until(() => server.output().includes('ACCEPT'), 's_server to listen', OPENSSL_WAIT);
    const first = run(['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-sess_out', sessionPath]);
    // s_client writes the session file when a ticket arrives (its own output is buffered).
    await until(() => existsSync(sessionPath), 'a session ticket', OPENSSL_WAIT);
    await sleep(100);
    first.process.stdin.write('Q\n');
    await once(first.process, 'exit');

    const relay = new RecordingRelay(port);
    const relayPort = await relay.listen();
    const second = run(['s_client', '-connect', `127.0.0.1:${relayPort}`, '-tls1_3', '-sess_in', sessionPath,
      '-early_data', earlyPath, '-keylogfile', join(dir, 'client.keys')]);
    await until(() => server.output().includes(early), 'the early data to arrive', OPENSSL_WAIT);
    second.process.stdin.write(`${line}\n`);
    await until(() => server.output().includes(line), 'the line to arrive', OPENSSL_WAIT);
    server.process.stdin.write(`${reply}\n`);
    await until(() => second.output().includes(reply), 'the reply to arrive', OPENSSL_WAIT);
    second.process.stdin.write('Q\n');
    await once(second.process, 'exit');
    const events = await relay.done();
    return { events, keylog: readFileSync(join(dir, 'client.keys'), 'latin1'), serverOutput: server.output(), clientOutput: second.output() };
  } finally {
    server.process.kill();
  }
}
