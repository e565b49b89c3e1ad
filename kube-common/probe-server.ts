/**
 * The HTTP endpoint every cloudtap pod serves, operator and stitcher alike:
 * /metrics (Prometheus text), /healthz (the process is alive and its loop is not
 * stuck) and /readyz (it does its job: caches synced, or resumed and holding its
 * Lease). The kubelet's probes and Prometheus read it (contract/names.ts paths).
 */
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { LIVENESS_PATH, READINESS_PATH } from '../contract/names.js';

export interface Health {
  live(): boolean;
  ready(): boolean;
}

const ALWAYS: Health = { live: () => true, ready: () => true };

/** Resolves once the port listens; rejects when it cannot (taken, not allowed). */
export async function serveMetricsAndProbes(registry: Registry, port: number, host = '0.0.0.0', health: Health = ALWAYS): Promise<Server> {
  // imported here: node:http's ESM face loads its lazy fetch (undici, about 50 ms) whether used or not, and a run without a port needs none of it
  const { createServer } = await import('node:http');
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else if (path === LIVENESS_PATH || path === READINESS_PATH) {
      const ok = path === LIVENESS_PATH ? health.live() : health.ready();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
