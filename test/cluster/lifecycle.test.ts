/**
 * What a shard leaves in the cluster goes with its CloudTap: the stitcher's
 * own checkpoint store and Lease, given the uid the operator passes in
 * CLOUDTAP_UID, name the CloudTap as owner, and the real garbage collector
 * (kube-controller-manager) deletes them after `kubectl delete cloudtap`.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openShardServices } from '../../stitcher/kube/shard-services.js';
import { silentLogger } from '../../stitcher/observe/log.js';
import { buildShardDeployment } from '../../operator/specs/deployment.js';
import { SHARD_ENV } from '../../contract/names.js';
import type { CloudTap } from '../../operator/api/types.js';
import { joinWithNamespace, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

type Json = Record<string, unknown>;
const namespace = 'lifecycle';

describe('cluster: checkpoints and shard Leases go with their CloudTap', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
  });

  after(async () => {
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('deletes the checkpoint ConfigMap and the Lease a shard wrote when the CloudTap is deleted', async () => {
    const file = join(cluster.plane.dir, 'lifecycle.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'gone', namespace },
      spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }] },
    }));
    const created = await admin('create', '-f', file);
    expect(created.ok, created.stderr).to.equal(true);
    const stored = JSON.parse((await admin('get', 'cloudtap', 'gone', '-n', namespace, '-o', 'json')).stdout) as CloudTap;
    // The uid reaches the shard the way the operator passes it: the Deployment's environment.
    const env = buildShardDeployment(stored, { shard: 0, configHash: 'h', image: 'i' }).spec!.template.spec!.containers[0]!.env!;
    const ownerUid = env.find((entry) => entry.name === SHARD_ENV.ownerUid)?.value;
    expect(ownerUid).to.equal(stored.metadata.uid);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
    const services = await openShardServices({
      checkpointUrl: `configmap://${namespace}/gone`, shard: { index: 0, count: 1 }, identity: 'shard-pod', logger: silentLogger(), kubeConfig, ...(ownerUid ? { ownerUid } : {}),
    });
    expect(await services.lease!.acquire()).to.equal(true);
    await services.store.write('{"version":1,"gateways":{}}');
    await services.lease!.release().catch(() => undefined);
    for (const kind of ['configmap/gone-shard-0-checkpoint', 'lease.coordination.k8s.io/gone-shard-0']) {
      const owners = (JSON.parse((await admin('get', kind, '-n', namespace, '-o', 'json')).stdout) as { metadata: { ownerReferences?: Json[] } }).metadata.ownerReferences;
      expect(owners?.map((owner) => owner.uid), kind).to.deep.equal([stored.metadata.uid]);
    }

    const deleted = await admin('delete', 'cloudtap', 'gone', '-n', namespace);
    expect(deleted.ok, deleted.stderr).to.equal(true);
    for (let tries = 0; tries < 200; tries++) {
      const left = await admin('get', 'configmap,lease.coordination.k8s.io', '-n', namespace, '-o', 'name');
      if (!left.stdout.includes('gone-shard-0')) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('the garbage collector left the checkpoint or the Lease behind');
  });
});
