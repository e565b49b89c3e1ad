/**
 * A strict Google Cloud Storage JSON-API server for tests, on loopback: the
 * real paths (with or without `/storage/v1`, as with STORAGE_EMULATOR_HOST),
 * paging by pageToken, prefix/delimiter/startOffset, ranges answered 206 with
 * Content-Range, x-goog-hash with real CRC32C and MD5, multipart and
 * resumable uploads, ifGenerationMatch, errors in Google's JSON shape, and
 * (optionally) a check of service-account bearer tokens (self-signed JWTs).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { etagOf, GcsBuckets, objectResource, type StoredObject } from './gcs-objects.js';
import { parseMultipartRelated, UploadSessions } from './gcs-uploads.js';

export interface GcsServerOptions {
  readonly buckets: readonly string[];
  /** When set, every request needs `Authorization: Bearer <JWT>` signed by this service account. */
  readonly serviceAccount?: { readonly clientEmail: string; readonly publicKeyPem: string };
  /** @default 1000, as GCS */
  readonly maxPageSize?: number;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

export class GcsTestServer {
  readonly objects = new GcsBuckets();
  /** Every request, in order, for tests that count calls. */
  readonly requests: LoggedRequest[] = [];
  private readonly sessions = new UploadSessions();
  private readonly server: Server;
  private readonly publicKey?: KeyObject;

  constructor(private readonly options: GcsServerOptions) {
    for (const bucket of options.buckets) this.objects.createBucket(bucket);
    if (options.serviceAccount !== undefined) this.publicKey = createPublicKey(options.serviceAccount.publicKeyPem);
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** Listens on a free loopback port; resolves to the endpoint, `http://127.0.0.1:<port>`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    this.requests.push({ method: request.method ?? 'GET', path: url.pathname, query: url.searchParams });
    try {
      const body = await readBody(request);
      this.checkAuthorization(request);
      await this.route(request, response, url, body);
    } catch (error) {
      const failure = error instanceof HttpError ? error : new HttpError(500, 'backendError', String(error));
      sendJson(response, failure.code, {
        error: { code: failure.code, message: failure.message, errors: [{ domain: 'global', reason: failure.reason, message: failure.message }] },
      });
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const method = request.method ?? 'GET';
    const path = url.pathname;
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (upload !== null) return this.upload(method, request, response, url, decodeURIComponent(upload[1]), body);
    const json = /^(?:\/storage\/v1|\/download\/storage\/v1)?\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(path);
    if (json === null) throw new HttpError(404, 'notFound', `Not Found: ${method} ${path}`);
    const bucket = decodeURIComponent(json[1]);
    if (!this.objects.hasBucket(bucket)) throw new HttpError(404, 'notFound', 'The specified bucket does not exist.');
    const isObjects = path.includes(`/b/${json[1]}/o`);
    if (!isObjects) {
      if (method !== 'GET') throw new HttpError(405, 'methodNotAllowed', `${method} on a bucket is not supported here`);
      return sendJson(response, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'US', storageClass: 'STANDARD' });
    }
    if (json[2] === undefined) {
      if (method !== 'GET') throw new HttpError(405, 'methodNotAllowed', `${method} on the object collection`);
      return this.list(response, url, bucket);
    }
    const name = decodeURIComponent(json[2]);
    if (method === 'DELETE') {
      if (!this.objects.delete(bucket, name)) throw new HttpError(404, 'notFound', `No such object: ${bucket}/${name}`);
      response.writeHead(204).end();
      return;
    }
    if (method !== 'GET') throw new HttpError(405, 'methodNotAllowed', `${method} on an object`);
    const object = this.objectFor(bucket, name, url.searchParams);
    if (url.searchParams.get('alt') === 'media') return sendMedia(request, response, object);
    return sendJson(response, 200, objectResource(bucket, object));
  }

  private objectFor(bucket: string, name: string, query: URLSearchParams): StoredObject {
    const object = this.objects.get(bucket, name);
    const generation = query.get('generation');
    if (object === undefined || (generation !== null && generation !== object.generation)) {
      throw new HttpError(404, 'notFound', `No such object: ${bucket}/${name}`);
    }
    const match = query.get('ifGenerationMatch');
    if (match !== null && match !== object.generation) {
      throw new HttpError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    }
    return object;
  }

  private list(response: ServerResponse, url: URL, bucket: string): void {
    const query = url.searchParams;
    const limit = this.options.maxPageSize ?? 1000;
    const maxResults = Math.min(Number(query.get('maxResults') ?? limit), limit);
    if (!Number.isInteger(maxResults) || maxResults < 1) throw new HttpError(400, 'invalid', 'Invalid value for maxResults');
    const token = query.get('pageToken');
    const after = token !== null && token !== '' ? decodeToken(token) : undefined;
    const result = this.objects.list(bucket, {
      prefix: query.get('prefix') ?? '',
      ...optionalParam(query, 'delimiter'), ...optionalParam(query, 'startOffset'), ...optionalParam(query, 'endOffset'),
      maxResults,
      ...(after !== undefined ? { after } : {}),
    });
    sendJson(response, 200, {
      kind: 'storage#objects',
      ...(result.prefixes.length > 0 ? { prefixes: result.prefixes } : {}),
      ...(result.items.length > 0 ? { items: result.items.map((object) => objectResource(bucket, object)) } : {}),
      ...(result.last !== undefined ? { nextPageToken: Buffer.from(result.last).toString('base64url') } : {}),
    });
  }

  private upload(method: string, request: IncomingMessage, response: ServerResponse, url: URL, bucket: string, body: Buffer): void {
    if (!this.objects.hasBucket(bucket)) throw new HttpError(404, 'notFound', 'The specified bucket does not exist.');
    const type = url.searchParams.get('uploadType');
    if (method === 'POST' && type === 'multipart') {
      const parts = parseBadRequest(() => parseMultipartRelated(request.headers['content-type'] ?? '', body));
      const name = url.searchParams.get('name') ?? (typeof parts.metadata.name === 'string' ? parts.metadata.name : undefined);
      if (name === undefined || name === '') throw new HttpError(400, 'required', 'Required: object name');
      const contentType = typeof parts.metadata.contentType === 'string' ? parts.metadata.contentType : parts.dataType;
      return this.store(response, bucket, name, parts.data, contentType, url.searchParams.get('ifGenerationMatch'));
    }
    if (method === 'POST' && type === 'resumable') {
      const metadata = body.length > 0 ? parseBadRequest(() => JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const name = url.searchParams.get('name') ?? (typeof metadata.name === 'string' ? metadata.name : undefined);
      if (name === undefined || name === '') throw new HttpError(400, 'required', 'Required: object name');
      const match = url.searchParams.get('ifGenerationMatch');
      const id = this.sessions.open({
        bucket, name, contentType: typeof metadata.contentType === 'string' ? metadata.contentType : 'application/octet-stream',
        ...(match !== null ? { ifGenerationMatch: match } : {}),
      });
      const host = request.headers.host ?? this.endpoint.replace(/^http:\/\//, '');
      response.writeHead(200, { location: `http://${host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}` });
      response.end();
      return;
    }
    if (method === 'PUT' && type === 'resumable') return this.resume(request, response, url, body);
    throw new HttpError(400, 'invalid', `unsupported upload: ${method} uploadType=${type}`);
  }

  private resume(request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer): void {
    const id = url.searchParams.get('upload_id') ?? '';
    const session = this.sessions.get(id);
    if (session === undefined) throw new HttpError(404, 'notFound', 'No such upload session.');
    const outcome = this.sessions.accept(session, request.headers['content-range'], body);
    if (outcome.kind === 'bad') throw new HttpError(400, 'invalid', outcome.message);
    if (outcome.kind === 'incomplete') {
      response.writeHead(308, outcome.received > 0 ? { range: `bytes=0-${outcome.received - 1}` } : {});
      response.end();
      return;
    }
    this.sessions.close(id);
    this.store(response, session.bucket, session.name, outcome.data, session.contentType, session.ifGenerationMatch ?? null);
  }

  private store(response: ServerResponse, bucket: string, name: string, data: Buffer, contentType: string | undefined, ifGenerationMatch: string | null): void {
    const existing = this.objects.get(bucket, name);
    if (ifGenerationMatch !== null && ifGenerationMatch !== (existing?.generation ?? '0')) {
      throw new HttpError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    }
    const object = this.objects.put(bucket, name, data, contentType);
    sendJson(response, 200, objectResource(bucket, object));
  }

  /** A self-signed service-account JWT (RS256), as google-auth-library sends with `useJWTAccessWithScope`. */
  private checkAuthorization(request: IncomingMessage): void {
    const account = this.options.serviceAccount;
    if (account === undefined || this.publicKey === undefined) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new HttpError(401, 'required', 'Anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket.');
    }
    const token = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
    const [head, payload, signature] = token.split('.');
    const signed = head !== undefined && payload !== undefined && signature !== undefined &&
      verify('RSA-SHA256', Buffer.from(`${head}.${payload}`), this.publicKey, Buffer.from(signature, 'base64url'));
    if (!signed) throw new HttpError(401, 'authError', 'Invalid Credentials');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Date.now() / 1000;
    if (claims.iss !== account.clientEmail || typeof claims.exp !== 'number' || claims.exp < now) {
      throw new HttpError(401, 'authError', 'Invalid Credentials');
    }
  }
}

function optionalParam(query: URLSearchParams, name: string): Record<string, string> {
  const value = query.get(name);
  return value !== null && value !== '' ? { [name]: value } : {};
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (decoded === '') throw new HttpError(400, 'invalid', 'Invalid page token');
  return decoded;
}

function parseBadRequest<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new HttpError(400, 'invalid', error instanceof Error ? error.message : String(error));
  }
}

function sendMedia(request: IncomingMessage, response: ServerResponse, object: StoredObject): void {
  const size = object.data.length;
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
    'x-goog-generation': object.generation,
    'x-goog-metageneration': object.metageneration,
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(size),
    'accept-ranges': 'bytes',
    etag: etagOf(object),
  };
  const range = request.headers.range;
  if (range === undefined) {
    response.writeHead(200, { ...headers, 'content-length': String(size) });
    response.end(object.data);
    return;
  }
  const parsed = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (parsed === null || (parsed[1] === '' && parsed[2] === '')) throw new HttpError(400, 'invalid', `Invalid range ${range}`);
  let first: number;
  let last: number;
  if (parsed[1] === '') {
    first = Math.max(0, size - Number(parsed[2]));
    last = size - 1;
  } else {
    first = Number(parsed[1]);
    last = parsed[2] === '' ? size - 1 : Math.min(Number(parsed[2]), size - 1);
  }
  if (first >= size || last < first) {
    response.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 416, message: 'The requested range cannot be satisfied.', errors: [{ reason: 'requestedRangeNotSatisfiable' }] } }));
    return;
  }
  response.writeHead(206, { ...headers, 'content-length': String(last - first + 1), 'content-range': `bytes ${first}-${last}/${size}` });
  response.end(object.data.subarray(first, last + 1));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
