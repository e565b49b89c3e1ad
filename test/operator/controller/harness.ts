/** Runs operators against the test API server, as a user's cluster would. */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor } from '../../k8s/kubeconfig.js';
import { writeFileSync } from 'node:fs';
import { Operator, type OperatorOptions } from '../../../operator/controller/controller.js';
import { startTestApiServer, type TestApiServer } from '../../k8s/server.js';
import type { ResourceType } from '../../k8s/registry.js';
import { loadCrd, type Json } from '../support.js';
import { encodeShardStatus, shardStatus, STATUS_REPORT_KEY } from '../../../stitcher/shard/status-report.js';
import { until } from '../../support/until.js';

export interface Cluster {
  readonly server: TestApiServer;
  type(group: string, version: string, plural: string): ResourceType;
  kubeConfig(): KubeConfig;
  /** A kubeconfig file for kubectl or the operator process. */
  kubeConfigFile(path: string): void;
  operator(options?: Partial<OperatorOptions>): Operator;
  close(): Promise<void>;
}

/** @param installCrd create the CloudTap CRD first (kubectl tests apply it themselves) */
export async function startCluster(installCrd = true): Promise<Cluster> {
  const server = await startTestApiServer();
  const operators: Operator[] = [];
  const type = (group: string, version: string, plural: string) => {
    const found = server.resources.typeOf(group, version, plural);
    if (!found) throw new Error(`the test server does not serve ${group}/${version}/${plural}`);
    return found;
  };
  if (installCrd) server.resources.create(type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), undefined, loadCrd());
  const kubeConfig = (): KubeConfig => kubeConfigFor(server);
  return {
    server,
    type,
    kubeConfig,
    kubeConfigFile(path) {
      writeFileSync(
        path,
        `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: t, user: u, namespace: default}}]\ncurrent-context: c\n`,
      );
    },
    operator(options = {}) {
      const operator = new Operator({ kubeConfig: kubeConfig(), resyncMs: 2000, queue: { baseDelayMs: 50 }, ...options });
      operators.push(operator);
      operator.start();
      return operator;
    },
    async close() {
      await Promise.all(operators.map((operator) => operator.stop()));
      await server.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined or false. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  let value: T | undefined | false;
  await until(() => {
    value = check();
    return value !== undefined && value !== false;
  }, what, { timeoutMs });
  return value as T;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function secret(name: string, json: unknown, namespace = 'default'): Json {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { 'credentials.json': JSON.stringify(json) } };
}

export function cloudTap(name: string, spec: Json = {}, namespace = 'default'): Json {
  return {
    apiVersion: 'cloudtap.io/v1alpha1',
    kind: 'CloudTap',
    metadata: { name, namespace },
    spec: {
      source: { provider: 's3', bucket: 'taps', region: 'eu-west-1', credentialsSecretRef: { name: `${name}-creds` } },
      targets: [{ name: 'sensor', type: 'vxlan', host: '10.0.0.9', vni: 5 }],
      ...spec,
    },
  };
}

export const awsCredentials = { access_key_id: 'AKIAFAKE', secret_access_key: 'fake-secret' };

export interface ShardLoad {
  /** Tapped Mbit/s over the 10 s before the report. */
  readonly mbps: number;
  /** How far the newest exported record is behind the report. */
  readonly lagMs?: number;
  /** How old the report is. @default 0 */
  readonly ageMs?: number;
}

/**
 * Writes a shard's checkpoint ConfigMap as the stitcher does
 * (stitcher/kube/checkpoint-configmap.ts: its name, labels and a whole
 * replace), with a status report made by the stitcher's own code.
 */
export function writeShardReport(cluster: Cluster, cloudTap: string, shard: number, load: ShardLoad, namespace = 'default'): void {
  const atMs = Date.now() - (load.ageMs ?? 0);
  const report = shardStatus(
    { bytes: 0, atMs: atMs - 10_000 },
    { bytes: (load.mbps * 1e6 * 10) / 8, atMs, newestExportedNs: load.lagMs === undefined ? undefined : BigInt(atMs - load.lagMs) * 1_000_000n },
  );
  const name = `${cloudTap}-shard-${shard}-checkpoint`;
  const body: Json = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'cloudtap', 'app.kubernetes.io/instance': cloudTap, 'app.kubernetes.io/component': 'checkpoint' },
    },
    data: { 'checkpoint.json': '{}', [STATUS_REPORT_KEY]: encodeShardStatus(report) },
  };
  cluster.server.resources.patch(cluster.type('', 'v1', 'configmaps'), namespace, name, () => body, undefined, true);
}
