/**
 * An HTTP proxy that sits between a client and a test server and spoils a
 * fixed share of requests, in a fixed cycle (so a test is repeatable):
 * throttling as the provider answers it, 500s, stalls (before the answer or
 * part way through the body) and reset connections (before the answer or
 * part way through the body). The rest pass through untouched.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyFault = 'none' | 'throttle' | 'error' | 'stall' | 'stall-mid' | 'reset' | 'reset-mid';

/** A provider's throttling answer: S3 503 SlowDown, GCS 429 rateLimitExceeded, Azure 503 ServerBusy. */
export interface ThrottleAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export const THROTTLE: Readonly<Record<'s3' | 'gcs' | 'azure', ThrottleAnswer>> = {
  s3: {
    status: 503, contentType: 'application/xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
  },
  gcs: {
    status: 429, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 429, message: 'The rate of change requests to the object is too high.', errors: [{ reason: 'rateLimitExceeded' }] } }),
  },
  azure: {
    status: 503, contentType: 'application/xml', headers: { 'x-ms-error-code': 'ServerBusy' },
    body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>',
  },
};

export interface FaultProxyOptions {
  /** The server behind the proxy, `http://127.0.0.1:<port>`. */
  readonly target: string;
  /** The faults, request by request, cycled. */
  readonly pattern: readonly ProxyFault[];
  readonly throttle: ThrottleAnswer;
  /** How long a stalled request is held before its connection is dropped. @default 5000 */
  readonly stallMs?: number;
}

export class FaultProxy {
  /** How many requests met each fault. */
  readonly counts: Record<ProxyFault, number> = { none: 0, throttle: 0, error: 0, stall: 0, 'stall-mid': 0, reset: 0, 'reset-mid': 0 };
  private readonly server: Server;
  private readonly target: URL;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private index = 0;

  constructor(private readonly options: FaultProxyOptions) {
    this.target = new URL(options.target);
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get requests(): number {
    return this.index;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const fault = this.options.pattern[this.index++ % this.options.pattern.length];
    this.counts[fault] += 1;
    const body = await readAll(request);
    switch (fault) {
      case 'throttle': return this.answer(response, this.options.throttle);
      case 'error':
        return this.answer(response, { status: 500, contentType: 'text/plain', body: 'injected internal error' });
      case 'stall': return this.later(() => request.socket.destroy());
      case 'reset':
        request.socket.resetAndDestroy();
        return;
      default:
        return this.forward(request, body, response, fault);
    }
  }

  private answer(response: ServerResponse, answer: ThrottleAnswer): void {
    response.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers });
    response.end(answer.body);
  }

  private later(action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, this.options.stallMs ?? 5000);
    this.timers.add(timer);
  }

  /** Passes the request on; for the '-mid' faults sends only the first half of the answer's body. */
  private async forward(request: IncomingMessage, body: Buffer, response: ServerResponse, fault: ProxyFault): Promise<void> {
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = httpRequest({
        host: this.target.hostname, port: this.target.port, method: request.method, path: request.url, headers: request.headers,
      }, resolve);
      outgoing.on('error', reject);
      outgoing.end(body);
    }).catch(() => undefined);
    if (upstream === undefined) {
      request.socket.destroy();
      return;
    }
    const answer = await readAll(upstream);
    response.writeHead(upstream.statusCode ?? 502, upstream.headers);
    if (fault === 'none' || answer.length < 2) {
      response.end(answer);
      return;
    }
    response.write(answer.subarray(0, answer.length >> 1), () => {
      if (fault === 'reset-mid') request.socket.destroy();
      else this.later(() => request.socket.destroy());
    });
  }
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
