/**
 * A Kubernetes API server for tests: node:http on a random loopback port,
 * in-process. Serves discovery, CRUD, list and watch, subresources and
 * Tables the way kube-apiserver 1.32 does for the clients this project uses
 * (kubectl and @kubernetes/client-node). See docs/operator.md for its limits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { apiGroupList, apiResourceList, apiVersions, serverVersion } from './discovery.js';
import { ApiError, errors } from './errors.js';
import { groupVersionDocument, openApiRoot } from './openapi.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { groupVersion, type ResourceType } from './registry.js';
import { Resources, type Subresource } from './resources.js';
import { fieldSelector, labelSelector } from './selectors.js';
import type { Json, WatchEvent } from './storage.js';
import { toTable } from './table.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly userAgent: string;
  readonly contentType: string;
  readonly status: number;
}

export interface TestApiServerOptions {
  /** Answer Deployment writes with a ready status, as the deployment controller would. @default true */
  readonly simulateDeployments?: boolean;
}

export interface TestApiServer {
  readonly url: string;
  readonly resources: Resources;
  /** Every request that is not a read (GET), in order. */
  readonly writes: RecordedRequest[];
  /** Ends every open watch, as an API server restart or a dropped connection would. */
  dropWatches(): void;
  close(): Promise<void>;
}

interface Target {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: Subresource;
}

export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const resources = new Resources({ simulateDeployments: options.simulateDeployments ?? true });
  const writes: RecordedRequest[] = [];
  const watches = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    handle(request, response)
      .finally(() => {
        // Direct calls from tests (not over HTTP) get the API server's default.
        resources.fieldValidation = 'Warn';
        resources.storage.dryRun = false;
      })
      .catch((error: unknown) => {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', String((error as Error)?.stack ?? error));
      if (!response.headersSent) send(response, apiError.code, apiError.toStatus());
      else response.end();
    });
    response.on('finish', () => {
      if (request.method !== 'GET') {
        writes.push({
          method: request.method ?? '',
          path: request.url ?? '',
          userAgent: String(request.headers['user-agent'] ?? ''),
          contentType: String(request.headers['content-type'] ?? ''),
          status: response.statusCode,
        });
      }
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/version') return send(response, 200, serverVersion);
    if (path === '/api') return send(response, 200, apiVersions(String(request.headers.host)));
    if (path === '/apis') return send(response, 200, apiGroupList(resources.allTypes()));
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return sendText(response, 200, 'ok');
    if (path === '/openapi/v3') return send(response, 200, openApiRoot(resources.allTypes()));
    const openApi = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (openApi) {
      const document = openApi[1] ? groupVersionDocument(resources.allTypes(), '', 'v1') : groupVersionDocument(resources.allTypes(), openApi[2]!, openApi[3]!);
      if (document) return send(response, 200, document);
    }
    const discovery = discoveryFor(path);
    if (discovery) return send(response, 200, discovery);
    const target = route(path);
    if (!target) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${request.method} ${path})`);
    const body = await readBody(request);
    const method = request.method ?? 'GET';
    const validation = url.searchParams.get('fieldValidation');
    resources.fieldValidation = validation === 'Strict' || validation === 'Ignore' ? validation : 'Warn';
    resources.warnings = [];
    resources.storage.dryRun = url.searchParams.get('dryRun') === 'All';
    if (method === 'GET' && target.name === undefined) return list(request, response, url, target);
    if (method === 'GET') return send(response, 200, readOne(request, url, target));
    if (method === 'POST' && target.name === undefined) return send(response, 201, resources.create(target.type, target.namespace, parseJson(body)), resources.warnings);
    if (target.name === undefined) throw errors.methodNotAllowed(`${method} is not supported on a collection`);
    if (method === 'PUT') return send(response, 200, resources.update(target.type, target.namespace, target.name, parseJson(body), target.subresource), resources.warnings);
    if (method === 'PATCH') return patch(request, response, url, target, body);
    if (method === 'DELETE') {
      const options = body ? parseJson(body) : {};
      const propagationPolicy = (options.propagationPolicy as string | undefined) ?? url.searchParams.get('propagationPolicy') ?? undefined;
      return send(response, 200, resources.delete(target.type, target.namespace, target.name, { ...(propagationPolicy ? { propagationPolicy } : {}) }));
    }
    throw errors.methodNotAllowed(`${method} is not supported`);
  }

  function discoveryFor(path: string): Json | undefined {
    if (path === '/api/v1') return apiResourceList(resources.allTypes(), '', 'v1');
    const match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    return match ? apiResourceList(resources.allTypes(), match[1]!, match[2]!) : undefined;
  }

  function route(path: string): Target | undefined {
    const core = /^\/api\/v1\/(.*)$/.exec(path);
    const named = /^\/apis\/([^/]+)\/([^/]+)\/(.*)$/.exec(path);
    const [group, version, rest] = core ? ['', 'v1', core[1]!] : named ? [named[1]!, named[2]!, named[3]!] : [];
    if (rest === undefined) return undefined;
    let segments = rest.split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (segments[0] === 'namespaces' && segments.length >= 3 && resources.typeOf(group!, version!, segments[2]!)) {
      namespace = segments[1];
      segments = segments.slice(2);
    }
    const type = resources.typeOf(group!, version!, segments[0]!);
    if (!type || segments.length > 3) return undefined;
    const subresource = segments[2] as Subresource;
    if (subresource !== undefined && !((subresource === 'status' && type.status) || (subresource === 'scale' && type.scale))) return undefined;
    if (type.namespaced && namespace === undefined && segments.length > 1) return undefined;
    return { type, namespace: type.namespaced ? namespace : undefined, name: segments[1], subresource };
  }

  /** One object; as a one-row Table when asked (`kubectl get KIND NAME`), as kube-apiserver does. */
  function readOne(request: IncomingMessage, url: URL, target: Target): Json {
    const object = resources.get(target.type, target.namespace, target.name!);
    if (target.subresource === 'scale') return resources.scaleOf(target.type, object);
    if (target.subresource !== undefined || !String(request.headers.accept ?? '').includes('as=Table')) return object;
    return toTable(target.type, [object], String((object.metadata as Json).resourceVersion), url.searchParams.get('includeObject') ?? 'PartialObjectMetadata');
  }

  function list(request: IncomingMessage, response: ServerResponse, url: URL, target: Target): void {
    const matchesLabels = labelSelector(url.searchParams.get('labelSelector'));
    const matchesFields = fieldSelector(url.searchParams.get('fieldSelector'));
    const matches = (object: Json) => matchesLabels(object) && matchesFields(object);
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      return watch(response, url, target, matches, String(request.headers.accept ?? '').includes('as=Table'));
    }
    const items = resources.storage.list(target.type, target.namespace).filter(matches);
    const resourceVersion = String(resources.storage.currentRevision);
    if (String(request.headers.accept ?? '').includes('as=Table')) {
      return send(response, 200, toTable(target.type, items, resourceVersion, url.searchParams.get('includeObject') ?? 'PartialObjectMetadata'));
    }
    send(response, 200, { kind: `${target.type.kind}List`, apiVersion: groupVersion(target.type), metadata: { resourceVersion }, items });
  }

  function watch(response: ServerResponse, url: URL, target: Target, matches: (object: Json) => boolean, asTable: boolean): void {
    const since = url.searchParams.get('resourceVersion');
    response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const includeObject = url.searchParams.get('includeObject') ?? 'PartialObjectMetadata';
    let first = true;
    // As a Table, each event carries a one-row Table; only the first has the columns.
    const render = (object: Json): Json => {
      if (!asTable) return object;
      const table = toTable(target.type, [object], String((object.metadata as Json).resourceVersion), includeObject);
      if (!first) table.columnDefinitions = [];
      first = false;
      return table;
    };
    const write = (event: WatchEvent) => {
      response.write(`${JSON.stringify({ type: event.type, object: render(event.object) })}\n`);
    };
    let backlog: WatchEvent[];
    if (!since || since === '0') {
      backlog = resources.storage.list(target.type, target.namespace).filter(matches).map((object) => ({
        resourceVersion: 0,
        typeKey: '',
        type: 'ADDED' as const,
        object,
      }));
    } else {
      const events = resources.storage.eventsSince(target.type, Number(since));
      if (!events) {
        const status = errors.gone(`too old resource version: ${since} (${resources.storage.currentRevision})`).toStatus();
        response.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
      backlog = events.filter((event) => (target.namespace === undefined || (event.object.metadata as Json).namespace === target.namespace) && matches(event.object));
    }
    backlog.forEach(write);
    const watcher = { typeKey: `${target.type.group}/${target.type.version}/${target.type.plural}`, namespace: target.namespace, matches, send: write };
    resources.storage.watchers.add(watcher);
    watches.add(response);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => response.end(), timeout * 1000) : undefined;
    const stop = () => {
      resources.storage.watchers.delete(watcher);
      watches.delete(response);
      if (timer) clearTimeout(timer);
    };
    response.on('close', stop);
    response.on('finish', stop);
  }

  function patch(request: IncomingMessage, response: ServerResponse, url: URL, target: Target, body: string): void {
    const contentType = String(request.headers['content-type'] ?? '').split(';')[0]!.trim();
    let apply: (current: Json) => Json;
    let createIfAbsent = false;
    switch (contentType) {
      case 'application/merge-patch+json':
        apply = (current) => mergePatch(current, parseJson(body)) as Json;
        break;
      case 'application/json-patch+json':
        apply = (current) => jsonPatch(current, JSON.parse(body)) as Json;
        break;
      case 'application/strategic-merge-patch+json':
        if (target.type.schema) throw errors.unsupportedMediaType(contentType);
        apply = (current) => strategicMergePatch(current, parseJson(body)) as Json;
        break;
      case 'application/apply-patch+yaml':
      case 'application/apply-patch+cbor':
        if (!url.searchParams.get('fieldManager')) throw errors.badRequest('PATCH with apply requires a fieldManager (fieldManager is required for apply requests)');
        createIfAbsent = true;
        apply = (current) => strategicMergePatch(current, parseYaml(body) as Json) as Json;
        break;
      default:
        throw errors.unsupportedMediaType(contentType);
    }
    send(response, 200, resources.patch(target.type, target.namespace, target.name!, apply, target.subresource, createIfAbsent), resources.warnings);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    resources,
    writes,
    dropWatches: () => {
      for (const response of watches) response.destroy();
    },
    close: async () => {
      for (const response of watches) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(body: string): Json {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Json;
  } catch (error) {
    throw errors.badRequest(`the request body is not a JSON object: ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  const text = JSON.stringify(body);
  const warning = warnings.length > 0 ? { Warning: warnings.map((message) => `299 - ${JSON.stringify(message)}`).join(', ') } : {};
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...warning });
  response.end(text);
}

function sendText(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain' });
  response.end(text);
}
