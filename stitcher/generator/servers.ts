/**
 * The real servers behind the tapping gateway, on loopback: HTTP/1.1,
 * HTTPS (TLS 1.2 and 1.3, every suite the generator offers) and HTTP/2
 * over TLS. They serve the deterministic bodies of bodies.ts by path:
 * `/files/<name>-<size>.<txt|bin>`; `/reset` makes the server abort the
 * connection with a TCP RST instead of answering.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { bodyChunks, contentTypeOf } from './bodies.js';
import type { BodySpec } from './bodies.js';
import type { TestCertificate } from './certificate.js';
import { SERVER_CIPHERS } from './suites.js';

export const RESET_PATH = '/reset';

export interface LoopbackServers {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly h2Port: number;
  close(): Promise<void>;
}

/** The path that serves `spec` (see parseFilePath). */
export function filePath(name: string, size: number, kind: BodySpec['kind']): string {
  return `/files/${name}-${size}.${kind === 'text' ? 'txt' : 'bin'}`;
}

/** The body a path asks for, or undefined when it names none. */
export function parseFilePath(path: string): BodySpec | undefined {
  const match = /^\/files\/[A-Za-z0-9_.]+-(\d+)\.(txt|bin)$/.exec(path);
  if (match === null) return undefined;
  return { path, size: Number(match[1]), kind: match[2] === 'txt' ? 'text' : 'binary' };
}

export async function startServers(seed: string, certificate: TestCertificate): Promise<LoopbackServers> {
  const rawSockets = new Map<number, Socket>();
  const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    void serve(seed, req, res, rawSockets);
  };
  const tlsOptions = {
    key: certificate.key,
    cert: certificate.cert,
    ciphers: SERVER_CIPHERS,
    minVersion: 'TLSv1.2' as const,
  };
  const plain = http.createServer({ keepAliveTimeout: 30_000 }, handler);
  const secure = https.createServer({ ...tlsOptions, ALPNProtocols: ['http/1.1'], keepAliveTimeout: 30_000 }, handler);
  const h2 = http2.createSecureServer({ ...tlsOptions, ALPNProtocols: ['h2'] }, handler);
  for (const server of [plain, secure] as NetServer[]) trackRawSockets(server, rawSockets);
  const servers: NetServer[] = [plain, secure, h2];
  for (const server of servers) server.on('clientError', () => undefined);
  h2.on('sessionError', () => undefined);
  await Promise.all(servers.map(async (server) => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }));
  const portOf = (server: NetServer): number => (server.address() as AddressInfo).port;
  return {
    httpPort: portOf(plain),
    httpsPort: portOf(secure),
    h2Port: portOf(h2),
    async close() {
      for (const socket of rawSockets.values()) socket.destroy();
      plain.closeAllConnections();
      secure.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

/** The TCP socket under each connection, by the peer's port, so `/reset` can reset it even under TLS. */
function trackRawSockets(server: NetServer, rawSockets: Map<number, Socket>): void {
  server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    rawSockets.set(port, socket);
    socket.on('close', () => rawSockets.delete(port));
  });
}

async function serve(
  seed: string,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  rawSockets: Map<number, Socket>,
): Promise<void> {
  const path = req.url ?? '/';
  if (path === RESET_PATH) {
    const port = req.socket.remotePort;
    const raw = port === undefined ? undefined : rawSockets.get(port);
    if (raw !== undefined) raw.resetAndDestroy();
    else req.socket.destroy();
    return;
  }
  const spec = parseFilePath(path);
  if (spec === undefined) {
    res.statusCode = 404;
    res.setHeader('content-length', '0');
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', contentTypeOf(spec.kind));
  res.setHeader('content-length', String(spec.size));
  try {
    for (const chunk of bodyChunks(seed, spec)) {
      // ServerResponse and Http2ServerResponse share write/drain but not one type.
      const writable = res as ServerResponse;
      if (!writable.write(chunk)) await once(writable, 'drain');
    }
    res.end();
  } catch {
    // The client went away (a reset flow): nothing to serve any more.
  }
}
