/**
 * The scale subresource on the real apiserver, with kubectl: it reads the
 * shards in effect while the operator sizes a CloudTap itself (the operator
 * server-side applies spec.sizing.shards under its field manager), `kubectl
 * scale` takes the count over (the apiserver's managedFields say whose it is),
 * and the status side counts the shards that run.
 */
import { expect } from 'chai';
import type { Operator } from '../../operator/controller/controller.js';
import { countingTap } from './counting-tap.js';
import { fieldManager } from '../../operator/controller/kube.js';
import { joinWithNamespace, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

const namespace = 'scaling';
const tap = 'sized';

interface Scale {
  spec: { replicas?: number };
  status: { replicas?: number; selector?: string };
}
interface ManagedFields {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1?: { 'f:spec'?: { 'f:sizing'?: { 'f:shards'?: unknown } } };
}

describe('cluster: kubectl scale and the scale subresource read and write the shards in effect', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let operator: Operator | undefined;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  async function scale(): Promise<Scale> {
    const got = await admin('get', 'cloudtap', tap, '-n', namespace, '--subresource=scale', '-o', 'json');
    expect(got.ok, got.stderr).to.equal(true);
    return JSON.parse(got.stdout) as Scale;
  }

  async function shardCountOwners(): Promise<string[]> {
    const got = await admin('get', 'cloudtap', tap, '-n', namespace, '-o', 'json', '--show-managed-fields');
    const entries = (JSON.parse(got.stdout) as { metadata: { managedFields: ManagedFields[] } }).metadata.managedFields;
    return entries.filter((entry) => entry.fieldsV1?.['f:spec']?.['f:sizing']?.['f:shards'] !== undefined)
      .map((entry) => `${entry.manager}/${entry.operation}${entry.subresource ? `/${entry.subresource}` : ''}`);
  }

  async function shardDeployments(): Promise<string[]> {
    const got = await admin('get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`, '-o', 'name');
    return got.stdout.split('\n').filter(Boolean).sort();
  }

  async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      // A 1.37 apiserver refuses the scale of a CloudTap whose spec.sizing.shards is absent: until the operator wrote it.
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${what}: not within 50 s (scale ${JSON.stringify(await scale().catch(String))}, owners ${(await shardCountOwners()).join(', ')})`);
  }

  const throughput = (mbps: number) => admin('patch', 'cloudtap', tap, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { sizing: { expectedThroughputMbps: mbps } } }));

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
    operator = await countingTap(cluster, namespace, tap);
  });

  after(async () => {
    await operator?.stop();
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('reads the automatic count, applied by the operator as its own field', async () => {
    await waitFor('scale spec.replicas 1', async () => (await scale()).spec.replicas === 1);
    expect(await shardCountOwners()).to.deep.equal([`${fieldManager}/Apply`]);
    await throughput(600); // the sizing table: 2 shards
    await waitFor('2 shard Deployments', async () => (await shardDeployments()).length === 2);
    expect((await scale()).spec.replicas).to.equal(2);
  });

  it('kubectl scale takes the count over; the throughput no longer moves it', async () => {
    const scaled = await admin('scale', 'cloudtap', tap, '-n', namespace, '--replicas=3');
    expect(scaled.ok, scaled.stderr).to.equal(true);
    await waitFor('3 shard Deployments', async () => (await shardDeployments()).length === 3);
    const owners = await shardCountOwners();
    expect(owners, 'the operator gave the field up').to.not.include(`${fieldManager}/Apply`);
    expect(owners).to.have.length(1);
    await throughput(100);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await scale()).spec.replicas).to.equal(3);
    expect(await shardDeployments()).to.have.length(3);
  });

  it('status.replicas counts the shards that run, selector selects their pods', async () => {
    const { status } = await scale();
    const got = await admin('get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`, '-o', 'json');
    const running = (JSON.parse(got.stdout) as { items: { status?: { readyReplicas?: number } }[] }).items.filter((d) => (d.status?.readyReplicas ?? 0) >= 1).length;
    expect(status.replicas ?? 0).to.equal(running);
    const pods = await admin('get', 'pods', '-n', namespace, '-l', status.selector!, '-o', 'name');
    expect(pods.stdout.split('\n').filter(Boolean)).to.have.length(3);
  });
});
