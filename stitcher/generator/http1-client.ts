/**
 * A minimal HTTP/1.1 client over a socket we own (plain or TLS), so the
 * generator decides exactly how each connection ends: FIN from either side
 * or a reset. Responses must carry Content-Length (our servers always send
 * it); bodies are hashed as they arrive, never kept.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Duplex } from 'node:stream';

export interface Response {
  readonly status: number;
  readonly size: number;
  readonly contentType: string;
  readonly sha256: string;
}

interface Pending {
  readonly resolve: (response: Response) => void;
  readonly reject: (error: Error) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 64 * 1024;

/** Reads responses off `socket` one after the other. */
export class ResponseReader {
  private header: Buffer = Buffer.alloc(0);
  private body: { left: number; hash: Hash; status: number; size: number; contentType: string } | undefined;
  private readonly waiting: Pending[] = [];
  private readonly ready: Response[] = [];
  private failure: Error | undefined;

  constructor(private readonly socket: Duplex, private readonly what: string) {
    socket.on('data', (chunk: Buffer) => this.consume(chunk));
    socket.on('error', (error: Error) => this.fail(error));
    socket.on('close', () => this.fail(new Error(`${what}: connection closed before the response ended`)));
  }

  /** Sends a GET and resolves with its response. */
  get(path: string, host: string, close: boolean): Promise<Response> {
    const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: cloudtap-generator\r\nAccept: */*\r\n` +
      `${close ? 'Connection: close\r\n' : ''}\r\n`;
    this.socket.write(request);
    return this.next();
  }

  /** Sends a GET whose answer is the server aborting the connection. */
  send(path: string, host: string): void {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  }

  private next(): Promise<Response> {
    const response = this.ready.shift();
    if (response !== undefined) return Promise.resolve(response);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private consume(chunk: Buffer): void {
    let rest: Buffer = chunk;
    while (rest.length > 0) {
      if (this.body === undefined) {
        rest = this.consumeHeader(rest);
        continue;
      }
      const body = this.body;
      const take = Math.min(body.left, rest.length);
      body.hash.update(rest.subarray(0, take));
      body.left -= take;
      rest = rest.subarray(take);
      if (body.left === 0) this.finishBody();
    }
  }

  /** Collects header bytes; once complete, starts the body and returns what follows. */
  private consumeHeader(chunk: Buffer): Buffer {
    this.header = this.header.length === 0 ? chunk : Buffer.concat([this.header, chunk]);
    const end = this.header.indexOf(HEADER_END);
    if (end < 0) {
      if (this.header.length > MAX_HEADER_BYTES) this.fail(new Error(`${this.what}: response header over ${MAX_HEADER_BYTES} bytes`));
      return Buffer.alloc(0);
    }
    const text = this.header.subarray(0, end).toString('latin1');
    const rest = this.header.subarray(end + HEADER_END.length);
    this.header = Buffer.alloc(0);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? NaN);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1];
    if (Number.isNaN(status) || length === undefined) {
      this.fail(new Error(`${this.what}: response without status or Content-Length`));
      return Buffer.alloc(0);
    }
    const contentType = /\r\ncontent-type:\s*([^\r]*)/i.exec(text)?.[1] ?? '';
    const size = Number(length);
    this.body = { left: size, hash: createHash('sha256'), status, size, contentType };
    if (size === 0) this.finishBody();
    return rest;
  }

  private finishBody(): void {
    const body = this.body!;
    this.body = undefined;
    const response = { status: body.status, size: body.size, contentType: body.contentType, sha256: body.hash.digest('hex') };
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(response);
    else this.ready.push(response);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
