/** Checkpoints in ConfigMaps against the test Kubernetes API server: written, replaced, found across shards, conflicts refused. */
import { expect } from 'chai';
import { startTestApiServer, type TestApiServer } from '../k8s/server.js';
import { CHECKPOINT_KEY, ConfigMapCheckpointStore } from '../../stitcher/kube/checkpoint-configmap.js';
import { CHECKPOINT_VERSION, encodeCheckpoint } from '../../stitcher/checkpoint/checkpoint.js';
import { kubeConfigFor } from '../k8s/kubeconfig.js';

function text(index: number, nextSeq: string): string {
  return encodeCheckpoint({
    version: CHECKPOINT_VERSION, shard: { index, count: 2 }, writtenAt: new Date().toISOString(),
    gateways: { [`gw-${index}`]: { resumeSeq: '0', nextSeq, closed: [], flows: [] } },
  }).text;
}

describe('pipeline/checkpoint-configmap', function () {
  this.timeout(10_000);
  let server: TestApiServer;
  beforeEach(async () => (server = await startTestApiServer()));
  afterEach(async () => server.close());

  it('creates then replaces the shard ConfigMap, and a re-shard finds every shard', async () => {
    const store0 = new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 0);
    const store1 = new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 1);
    const store2 = new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 2);
    expect(await store0.readAll()).to.deep.equal([]);
    await store0.write(text(0, '3'));
    await store0.write(text(0, '4'), '{"throughputMbps":1.5,"updatedAt":"2026-11-25T16:00:00.000Z"}');
    await store1.write(text(1, '8'));
    await store2.write(text(2, '9'));
    const type = server.resources.typeOf('', 'v1', 'configmaps')!;
    const stored = server.resources.get(type, 'default', 'tap-shard-0-checkpoint');
    expect(JSON.parse((stored.data as Record<string, string>)[CHECKPOINT_KEY]!).gateways['gw-0'].nextSeq).to.equal('4');
    // the operator's view: the status report beside it, and the labels it selects checkpoint ConfigMaps by
    expect(JSON.parse((stored.data as Record<string, string>)['status.json']!)).to.deep.equal({ throughputMbps: 1.5, updatedAt: '2026-11-25T16:00:00.000Z' });
    expect((stored.metadata as { labels: Record<string, string> }).labels).to.include({ 'app.kubernetes.io/name': 'cloudtap', 'app.kubernetes.io/component': 'checkpoint' });
    const found = await new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 0).readAll();
    expect(found.map((f) => f.index)).to.deep.equal([0, 1, 2]);
  });

  it('refuses to overwrite a checkpoint someone else wrote since it last looked', async () => {
    const mine = new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 0);
    await mine.write(text(0, '3'));
    const other = new ConfigMapCheckpointStore(kubeConfigFor(server), 'default', 'tap', 0);
    await other.readAll();
    await other.write(text(0, '10'));
    try {
      await mine.write(text(0, '4'));
      expect.fail('a stale writer overwrote the checkpoint');
    } catch (error) {
      expect((error as Error).message).to.equal('while writing checkpoint configmap://default/tap-shard-0-checkpoint: HTTP 409');
    }
  });
});
