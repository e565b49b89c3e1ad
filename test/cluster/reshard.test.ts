/**
 * Adding or removing a shard restarts only what must move, judged by the real
 * Deployment controller: each shard's Deployment keeps its generation and its
 * one ReplicaSet unless its own gateways change (linear hashing,
 * contract/shard-assignment.ts): 2 -> 3 and 3 -> 2 touch shard 0 (split,
 * then merged back) and the new shard, never shard 1.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Operator } from '../../operator/controller/controller.js';
import { joinWithNamespace, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

const namespace = 'reshard';
const tap = 'moving';

interface ShardState {
  readonly uid: string;
  readonly generation: number;
  /** pod-template-hash of every ReplicaSet the Deployment controller made for it. */
  readonly templates: string[];
}

describe('cluster: a scale by one restarts only the shard whose gateways move', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let operator: Operator | undefined;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  async function shards(): Promise<Record<string, ShardState>> {
    type Item = { metadata: { name: string; uid: string; generation: number; labels: Record<string, string>; ownerReferences?: { name: string }[] } };
    const list = async (kind: string) => (JSON.parse((await admin('get', kind, '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`, '-o', 'json')).stdout) as { items: Item[] }).items;
    const replicaSets = await list('replicasets');
    const state: Record<string, ShardState> = {};
    for (const deployment of await list('deployments')) {
      const { name, uid, generation } = deployment.metadata;
      const templates = replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((owner) => owner.name === name)).map((rs) => rs.metadata.labels['pod-template-hash']!).sort();
      state[name] = { uid, generation, templates };
    }
    return state;
  }

  /** Waits until `count` shards exist and the Deployment controller has a ReplicaSet for each one's current template. */
  async function settled(count: number): Promise<Record<string, ShardState>> {
    let last: Record<string, ShardState> = {};
    for (let tries = 0; tries < 200; tries++) {
      last = await shards();
      const got = await admin('get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`, '-o', 'json');
      const deployments = (JSON.parse(got.stdout) as { items: { metadata: { generation: number }; status?: { observedGeneration?: number } }[] }).items;
      if (deployments.length === count && deployments.every((d) => d.status?.observedGeneration === d.metadata.generation)) return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`not ${count} settled shards: ${JSON.stringify(last)}`);
  }

  const scaleTo = (replicas: number) => admin('scale', 'cloudtap', tap, '-n', namespace, `--replicas=${replicas}`);

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
    const file = join(cluster.plane.dir, 'reshard.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: tap, namespace },
      // No node matches: the pods stay Pending; the Deployment controller still makes a ReplicaSet per template.
      spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }], sizing: { shards: 2 }, stitcher: { nodeSelector: { 'cloudtap.io/no-such-node': 'true' } } },
    }));
    expect((await admin('create', '-f', file)).ok).to.equal(true);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
    operator = new Operator({ kubeConfig, namespaces: [namespace], resyncMs: 60_000, queue: { baseDelayMs: 200 } });
    operator.start();
  });

  after(async () => {
    await operator?.stop();
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('2 -> 3 changes the template of shard 0 only (split in two), and adds shard 2', async () => {
    const before = await settled(2);
    expect((await scaleTo(3)).ok).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await settled(3);
    const [zero, one] = [`${tap}-shard-0`, `${tap}-shard-1`];
    expect(after[one], 'shard 1 untouched').to.deep.equal(before[one]);
    expect(after[zero]!.uid).to.equal(before[zero]!.uid);
    expect(after[zero]!.generation, 'shard 0 rolled').to.equal(before[zero]!.generation + 1);
    expect(after[zero]!.templates).to.have.length(2);
    expect(after[`${tap}-shard-2`]!.templates).to.have.length(1);
  });

  it('3 -> 2 changes the template of shard 0 only (merged back), and removes shard 2', async () => {
    const before = await settled(3);
    expect((await scaleTo(2)).ok).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await settled(2);
    const [zero, one] = [`${tap}-shard-0`, `${tap}-shard-1`];
    expect(Object.keys(after).sort()).to.deep.equal([zero, one]);
    expect(after[one], 'shard 1 untouched').to.deep.equal(before[one]);
    expect(after[zero]!.generation, 'shard 0 rolled').to.equal(before[zero]!.generation + 1);
  });
});
