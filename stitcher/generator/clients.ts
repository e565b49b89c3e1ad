/**
 * The user's side of a flow: connects to the tapping relay, speaks plain
 * HTTP/1.1, HTTPS or HTTP/2 with Node's own TLS (capturing its key log),
 * fetches the planned objects and ends the connection the planned way.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { ResponseReader } from './http1-client.js';
import type { NegotiatedTls, ServedObject } from './options.js';
import type { FlowPlan } from './plan.js';
import { RESET_PATH } from './servers.js';
import type { TlsVersion } from './suites.js';

export interface ClientOutcome {
  readonly objects: readonly ServedObject[];
  /** NSS key log lines of a TLS flow (secrets: never log them). */
  readonly keylog: string;
  readonly tls?: NegotiatedTls;
}

export async function runClient(plan: FlowPlan, relayPort: number): Promise<ClientOutcome> {
  const what = `flow ${plan.index} (${plan.protocol} to ${plan.serverName})`;
  const raw = net.connect({ port: relayPort, host: '127.0.0.1', noDelay: true });
  await once(raw, 'connect');
  if (plan.protocol === 'http') return { objects: await fetchHttp1(plan, raw, raw, what), keylog: '' };
  const keylog: Buffer[] = [];
  const secure = await startTls(plan, raw, keylog);
  const negotiated = { version: secure.getProtocol() as TlsVersion, cipher: secure.getCipher().name };
  const objects = plan.protocol === 'h2' ? await fetchHttp2(plan, raw, secure, what) : await fetchHttp1(plan, raw, secure, what);
  return { objects, keylog: Buffer.concat(keylog).toString('latin1'), tls: negotiated };
}

async function startTls(plan: FlowPlan, raw: Socket, keylog: Buffer[]): Promise<TLSSocket> {
  const suite = plan.suite!;
  const secure = tls.connect({
    socket: raw,
    servername: plan.serverName,
    ALPNProtocols: [plan.protocol === 'h2' ? 'h2' : 'http/1.1'],
    minVersion: suite.version,
    maxVersion: suite.version,
    ciphers: suite.cipher,
    // The servers use a throw-away self-signed certificate made for this run.
    rejectUnauthorized: false,
  });
  secure.on('keylog', (line: Buffer) => keylog.push(line));
  await once(secure, 'secureConnect');
  return secure;
}

async function fetchHttp1(plan: FlowPlan, raw: Socket, socket: Socket, what: string): Promise<ServedObject[]> {
  const reader = new ResponseReader(socket, what);
  const objects: ServedObject[] = [];
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  for (const [n, spec] of plan.objects.entries()) {
    const last = n === plan.objects.length - 1;
    const response = await reader.get(spec.path, plan.serverName, last && plan.close === 'fin-server');
    if (response.status !== 200 || response.size !== spec.size) {
      throw new Error(`${what}: GET ${spec.path} answered ${response.status} with ${response.size} bytes, expected 200 with ${spec.size}`);
    }
    objects.push({ path: spec.path, size: response.size, contentType: response.contentType, sha256: response.sha256 });
  }
  await endConnection(plan, raw, socket, () => reader.send(RESET_PATH, plan.serverName));
  await gone;
  return objects;
}

async function fetchHttp2(plan: FlowPlan, raw: Socket, secure: TLSSocket, what: string): Promise<ServedObject[]> {
  const session = http2.connect(`https://${plan.serverName}`, { createConnection: () => secure });
  session.on('error', () => undefined);
  const gone = new Promise<void>((resolve) => secure.once('close', () => resolve()));
  secure.on('error', () => undefined);
  const objects = await Promise.all(plan.objects.map(async (spec) => {
    const stream = session.request({ ':method': 'GET', ':path': spec.path });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    const status = Number(headers[':status']);
    if (status !== 200 || size !== spec.size) {
      throw new Error(`${what}: h2 GET ${spec.path} answered ${status} with ${size} bytes, expected 200 with ${spec.size}`);
    }
    return { path: spec.path, size, contentType: String(headers['content-type'] ?? ''), sha256: hash.digest('hex') };
  }));
  if (plan.close === 'rst-client') raw.resetAndDestroy();
  else await new Promise<void>((resolve) => session.close(() => resolve()));
  await gone;
  return objects;
}

/** Ends an HTTP/1.1 connection after its last response, the way the plan says. */
async function endConnection(plan: FlowPlan, raw: Socket, socket: Socket, askReset: () => void): Promise<void> {
  switch (plan.close) {
    case 'fin-client':
      socket.end();
      return;
    case 'fin-server':
      return; // the last request said Connection: close; the server closes first
    case 'rst-client':
      raw.resetAndDestroy();
      return;
    case 'rst-server':
      askReset();
      return;
  }
}
