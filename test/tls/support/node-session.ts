/** A TLS session between Node's own client and server, through a recording relay. */
import { once } from 'node:events';
import { connect, createServer } from 'node:tls';
import type { ConnectionOptions, TLSSocket, TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FlowEvent } from '../../../stitcher/flow/events.js';
import { RecordingRelay, testCertificate } from './capture.js';

export interface NodeSessionOptions {
  readonly server?: TlsOptions;
  readonly client?: ConnectionOptions;
  /** What the client sends, written in pieces of `pieceSize` (one record each, at most). */
  readonly request: Buffer;
  /** What the server answers once the whole request arrived. */
  readonly response: Buffer;
  /** @default 4000 */
  readonly pieceSize?: number;
  /** A server-side TLS session cache shared across captures (session ID resumption). */
  readonly sessionCache?: Map<string, Buffer>;
}

export interface CapturedSession {
  readonly events: FlowEvent[];
  /** NSS key log lines the server logged. */
  readonly keylog: string;
  /** For a later resumption. */
  readonly session: Buffer | undefined;
  readonly reused: boolean;
  readonly protocol: string | null;
  readonly cipher: string;
}

function writeInPieces(socket: TLSSocket, data: Buffer, pieceSize: number): void {
  for (let i = 0; i < data.length; i += pieceSize) socket.write(data.subarray(i, i + pieceSize));
}

export async function captureNodeSession(options: NodeSessionOptions): Promise<CapturedSession> {
  const { key, cert } = testCertificate();
  const pieceSize = options.pieceSize ?? 4000;
  let keylog = '';
  const server = createServer({ key, cert, ...options.server }, (socket) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received === options.request.length) {
        writeInPieces(socket, options.response, pieceSize);
        socket.end();
      }
    });
    socket.on('error', () => undefined);
  });
  server.on('keylog', (line: Buffer) => (keylog += line.toString('latin1')));
  const cache = options.sessionCache;
  if (cache !== undefined) {
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      cache.set(id.toString('hex'), data);
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => {
      done(null, cache.get(id.toString('hex')) ?? null);
    });
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const relay = new RecordingRelay((server.address() as AddressInfo).port);
  const relayPort = await relay.listen();

  const client = connect({ port: relayPort, host: '127.0.0.1', rejectUnauthorized: false, servername: 'tap.test', ...options.client });
  try {
    await once(client, 'secureConnect');
  } catch (error) {
    server.close();
    relay.close();
    throw error;
  }
  const reused = client.isSessionReused();
  const protocol = client.getProtocol();
  const cipher = client.getCipher().standardName;
  writeInPieces(client, options.request, pieceSize);
  const received: Buffer[] = [];
  client.on('data', (chunk: Buffer) => received.push(chunk));
  await once(client, 'end');
  const session = client.getSession();
  client.end();
  const events = await relay.done();
  server.close();
  if (!Buffer.concat(received).equals(options.response)) throw new Error('the test session itself lost bytes');
  return { events, keylog, session, reused, protocol, cipher };
}

/** Deterministic bytes that are easy to tell apart. */
export function testBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}
