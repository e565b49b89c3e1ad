/**
 * For the suites about shard counts (scale, reshard): a CloudTap whose shards
 * no node runs (their pods stay Pending; the Deployment and ReplicaSet
 * controllers still do their part), created as the admin, and the operator
 * in-process, watching that namespace only.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Operator } from '../../operator/controller/controller.js';
import type { Sizing } from '../../operator/api/types.js';
import { kubectlAs } from './kubectl.js';
import type { Cluster } from './shared.js';

export async function countingTap(cluster: Cluster, namespace: string, name: string, sizing?: Sizing): Promise<Operator> {
  const file = join(cluster.plane.dir, `${namespace}-${name}.yaml`);
  writeFileSync(file, stringify({
    apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name, namespace },
    spec: {
      source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }],
      ...(sizing ? { sizing } : {}),
      stitcher: { nodeSelector: { 'cloudtap.io/no-such-node': 'true' } },
    },
  }));
  const created = await kubectlAs(cluster, cluster.plane.adminKubeconfig, 'create', '-f', file);
  expect(created.ok, created.stderr).to.equal(true);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
  const operator = new Operator({ kubeConfig, namespaces: [namespace], resyncMs: 60_000, queue: { baseDelayMs: 200 } });
  operator.start();
  return operator;
}
