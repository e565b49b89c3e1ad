/**
 * The few REST calls the node agent makes, with a client certificate (the
 * node's own, so the Node authorizer and NodeRestriction judge them), and a
 * watch that reads the apiserver's stream of JSON events.
 */
import { request, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import type { ClientCert } from './pki.js';

export interface Response {
  readonly status: number;
  readonly body: string;
}

export type Json = Record<string, unknown>;

export class ApiClient {
  private readonly tls: Pick<RequestOptions, 'ca' | 'cert' | 'key'>;

  constructor(private readonly server: string, ca: string, user: ClientCert) {
    this.tls = { ca: readFileSync(ca), cert: readFileSync(user.cert), key: readFileSync(user.key) };
  }

  call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${this.server}${path}`, {
        ...this.tls, method, timeout: 15_000,
        headers: { Accept: 'application/json', ...(payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }) },
      }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  /** The object, or an error that names the call and the apiserver's message. */
  async json(method: string, path: string, body?: unknown, contentType?: string): Promise<Json> {
    const response = await this.call(method, path, body, contentType);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${messageOf(response.body)}`);
    return JSON.parse(response.body) as Json;
  }

  /** Lists then watches from the list's resourceVersion, until `stop` is called; relists when the watch ends. */
  watch(path: string, onEvent: (type: string, object: Json) => void): () => void {
    let stopped = false;
    let current: { destroy(): void } | undefined;
    const loop = async () => {
      while (!stopped) {
        try {
          const list = await this.json('GET', path);
          for (const item of (list.items as Json[] | undefined) ?? []) onEvent('ADDED', item);
          const version = (list.metadata as { resourceVersion: string }).resourceVersion;
          const separator = path.includes('?') ? '&' : '?';
          await new Promise<void>((resolve) => {
            const req = request(`${this.server}${path}${separator}watch=1&resourceVersion=${version}&allowWatchBookmarks=true`, { ...this.tls, headers: { Accept: 'application/json' } }, (response) => {
              let buffered = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => {
                buffered += chunk;
                let newline: number;
                while ((newline = buffered.indexOf('\n')) >= 0) {
                  const line = buffered.slice(0, newline);
                  buffered = buffered.slice(newline + 1);
                  if (line.trim() === '') continue;
                  const event = JSON.parse(line) as { type: string; object: Json };
                  if (event.type !== 'BOOKMARK' && event.type !== 'ERROR') onEvent(event.type, event.object);
                }
              });
              response.on('end', resolve);
              response.on('error', () => resolve());
            });
            req.on('error', () => resolve());
            req.end();
            current = req;
          });
        } catch {
          if (!stopped) await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    void loop();
    return () => {
      stopped = true;
      current?.destroy();
    };
  }
}

function messageOf(body: string): string {
  try {
    return String((JSON.parse(body) as { message?: string }).message ?? body);
  } catch {
    return body.slice(0, 200);
  }
}
