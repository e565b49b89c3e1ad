/**
 * The operator process: `node dist/operator/main.js`. Reads its kubeconfig
 * the usual way (KUBECONFIG, ~/.kube/config, else the in-cluster service
 * account), campaigns for the leader Lease, serves /metrics, /healthz and
 * /readyz, and stops cleanly on SIGTERM (releasing the Lease).
 *
 * Environment:
 *   WATCH_NAMESPACE   only these namespaces, comma-separated (default: all)
 *   POD_NAMESPACE     where the leader Lease lives (default: "default")
 *   POD_NAME          this candidate's identity (default: hostname + pid)
 *   LEADER_ELECT      "false" to run without election (default: true)
 *   LEASE_DURATION    seconds (default: 15)
 *   METRICS_PORT      port for /metrics, /healthz, /readyz (default: 8080)
 *   RESYNC_SECONDS    replay the caches to the handlers, and re-read named Secrets (no LIST; default: 300)
 *   LOG_LEVEL         debug, info, warn, error (default: info)
 *   STITCHER_IMAGE    the image stitchers run (the chart's stitcher.image; default: the built-in one)
 *   ALLOW_IMAGE_OVERRIDE  "true" lets a CloudTap name its own image (default: false)
 */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import winston from 'winston';
import { Operator } from './controller/controller.js';
import { defaultImage } from './api/defaults.js';
import type { Logger } from './controller/logger.js';
import { serveMetricsAndProbes } from '../kube-common/probe-server.js';

function winstonLogger(level: string): Logger {
  const logger = winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Console()] });
  return {
    debug: (message, fields) => logger.debug(message, fields),
    info: (message, fields) => logger.info(message, fields),
    warn: (message, fields) => logger.warn(message, fields),
    error: (message, fields) => logger.error(message, fields),
  };
}

async function main(): Promise<void> {
  const env = process.env;
  const log = winstonLogger(env.LOG_LEVEL ?? 'info');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const identity = env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const operator = new Operator({
    kubeConfig,
    ...(env.WATCH_NAMESPACE ? { namespaces: env.WATCH_NAMESPACE.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
    leaderElection:
      env.LEADER_ELECT === 'false'
        ? false
        : { namespace: env.POD_NAMESPACE ?? 'default', identity, leaseDurationSeconds: Number(env.LEASE_DURATION ?? 15) },
    resyncMs: Number(env.RESYNC_SECONDS ?? 300) * 1000,
    log,
    images: { defaultImage: env.STITCHER_IMAGE || defaultImage, allowOverride: env.ALLOW_IMAGE_OVERRIDE === 'true' },
  });
  // Ready once every watch has listed once; a standby is ready (see Operator.isReady).
  const probes = await serveMetricsAndProbes(operator.metrics.registry, Number(env.METRICS_PORT ?? 8080), undefined, {
    live: () => true, ready: () => operator.isReady,
  });
  log.info('serving metrics and probes', { port: (probes.address() as { port: number }).port });
  operator.start();
  log.info('cloudtap operator started', { identity, cluster: kubeConfig.getCurrentCluster()?.server });
  const shutdown = async (signal: string) => {
    log.info('shutting down', { signal });
    await operator.stop();
    probes.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`cloudtap operator failed to start: ${(error as Error).message}`);
  process.exit(1);
});
