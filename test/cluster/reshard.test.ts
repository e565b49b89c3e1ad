/**
 * Adding or removing a shard restarts only what must move, judged by the real
 * Deployment controller: each shard's Deployment keeps its generation and its
 * one ReplicaSet unless its own gateways change (linear hashing,
 * contract/shard-assignment.ts): 2 -> 3 and 3 -> 2 touch shard 0 (split,
 * then merged back) and the new shard, never shard 1.
 */
import { expect } from 'chai';
import type { Operator } from '../../operator/controller/controller.js';
import { countingTap } from './counting-tap.js';
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
      const got = await admin('get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`, '-o', 'json');
      const deployments = (JSON.parse(got.stdout) as { items: { metadata: { generation: number }; status?: { observedGeneration?: number } }[] }).items;
      if (deployments.length === count && deployments.every((d) => d.status?.observedGeneration === d.metadata.generation)) {
        last = await shards();
        const states = Object.values(last);
        if (states.length === count && states.every((state) => state.templates.length > 0)) return last;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`not ${count} settled shards: ${JSON.stringify(last)}`);
  }

  /** The shards settled at `from`, then kubectl scale to `to`, and the shards settled again. */
  async function scale(from: number, to: number): Promise<{ before: Record<string, ShardState>; after: Record<string, ShardState> }> {
    const before = await settled(from);
    const scaled = await admin('scale', 'cloudtap', tap, '-n', namespace, `--replicas=${to}`);
    expect(scaled.ok, scaled.stderr).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the operator's writes, then the controllers'
    return { before, after: await settled(to) };
  }
  const [zero, one] = [`${tap}-shard-0`, `${tap}-shard-1`];

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
    operator = await countingTap(cluster, namespace, tap, { shards: 2 });
  });

  after(async () => {
    await operator?.stop();
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('2 -> 3 changes the template of shard 0 only (split in two), and adds shard 2', async () => {
    const { before, after } = await scale(2, 3);
    expect(after[one], 'shard 1 untouched').to.deep.equal(before[one]);
    expect(after[zero]!.uid).to.equal(before[zero]!.uid);
    expect(after[zero]!.generation, 'shard 0 rolled').to.equal(before[zero]!.generation + 1);
    expect(after[zero]!.templates).to.have.length(2);
    expect(after[`${tap}-shard-2`]!.templates).to.have.length(1);
  });

  it('3 -> 2 changes the template of shard 0 only (merged back), and removes shard 2', async () => {
    const { before, after } = await scale(3, 2);
    expect(Object.keys(after).sort()).to.deep.equal([zero, one]);
    expect(after[one], 'shard 1 untouched').to.deep.equal(before[one]);
    expect(after[zero]!.generation, 'shard 0 rolled').to.equal(before[zero]!.generation + 1);
  });
});
