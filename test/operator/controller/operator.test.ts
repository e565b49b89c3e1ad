/**
 * The operator against the test API server: what a user sees after each
 * thing they do. Every wait polls the API; nothing depends on timing.
 */
import { expect } from 'chai';
import { ApiException } from '@kubernetes/client-node';
import type { Json } from '../support.js';
import { awsCredentials, cloudTap, secret, sleep, startCluster, waitFor, writeShardReport, type Cluster, type ShardLoad } from './harness.js';
import type { Operator } from '../../../operator/controller/controller.js';

const labelOf = (object: Json, key: string) => ((object.metadata as Json).labels as Record<string, string> | undefined)?.[key];
const conditionOf = (object: Json | undefined, type: string) =>
  (((object?.status as Json | undefined)?.conditions ?? []) as Json[]).find((condition) => condition.type === type);

describe('operator/controller against the test API server', function () {
  this.timeout(30_000);
  let cluster: Cluster;

  beforeEach(async () => {
    cluster = await startCluster();
  });
  afterEach(async () => {
    await cluster.close();
  });

  const types = () => ({
    cloudTaps: cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'),
    deployments: cluster.type('apps', 'v1', 'deployments'),
    configMaps: cluster.type('', 'v1', 'configmaps'),
    secrets: cluster.type('', 'v1', 'secrets'),
    roles: cluster.type('rbac.authorization.k8s.io', 'v1', 'roles'),
    events: cluster.type('', 'v1', 'events'),
  });
  const list = (type: ReturnType<typeof types>[keyof ReturnType<typeof types>]) => cluster.server.resources.storage.list(type, 'default');
  const get = (type: ReturnType<typeof types>[keyof ReturnType<typeof types>], name: string) => cluster.server.resources.storage.get(type, 'default', name);
  const shardDeployments = (name: string) => list(types().deployments).filter((deployment) => labelOf(deployment, 'app.kubernetes.io/instance') === name);
  const podHash = (deployment: Json) =>
    ((((deployment.spec as Json).template as Json).metadata as Json).annotations as Record<string, string>)['cloudtap.io/config-hash'];
  const ready = (name: string) => waitFor(`${name} Ready`, () => {
    const object = get(types().cloudTaps, name);
    const condition = conditionOf(object, 'Ready');
    return condition?.status === 'True' && (object?.status as Json).observedGeneration === (object?.metadata as Json).generation && object;
  });

  function createTap(name: string, spec: Json = {}): Json {
    const { resources } = cluster.server;
    resources.create(types().secrets, 'default', secret(`${name}-creds`, awsCredentials));
    return resources.create(types().cloudTaps, 'default', cloudTap(name, spec));
  }

  it('creates owned children and reports Ready with the shard count', async () => {
    cluster.operator();
    const created = createTap('tap', { sizing: { shards: 2 } });
    const object = await ready('tap');
    expect((object.status as Json).shards).to.equal(2);
    expect((object.status as Json).readyShards).to.equal(2);
    expect((object.status as Json).selector).to.include('app.kubernetes.io/instance=tap');
    const uid = (created.metadata as Json).uid;
    const children = [...shardDeployments('tap'), get(types().configMaps, 'tap-config')!, get(types().roles, 'tap-stitcher')!];
    expect(children).to.have.length(4);
    for (const child of children) {
      expect((child.metadata as Json).ownerReferences).to.deep.equal([
        { apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', name: 'tap', uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    for (const type of ['Reconciled', 'CredentialsValid']) expect(conditionOf(object, type)?.status).to.equal('True');
    expect(conditionOf(object, 'Degraded')?.status).to.equal('False');
  });

  it('rolls the pods when the spec or the referenced Secret changes, and only then', async () => {
    cluster.operator();
    createTap('tap');
    await ready('tap');
    const first = podHash(shardDeployments('tap')[0]!);
    const { resources } = cluster.server;
    resources.patch(types().cloudTaps, 'default', 'tap', (current) => ({ ...current, spec: { ...(current.spec as Json), stitcher: { logLevel: 'debug' } } }), undefined, false);
    const second = await waitFor('a new pod template after the spec change', () => {
      const hash = podHash(shardDeployments('tap')[0]!);
      return hash !== first && hash;
    });
    expect(JSON.parse(((get(types().configMaps, 'tap-config')!.data as Json)['config.json']) as string).logLevel).to.equal('debug');
    await ready('tap');
    resources.update(types().secrets, 'default', 'tap-creds', secret('tap-creds', { ...awsCredentials, secret_access_key: 'rotated' }), undefined);
    await waitFor('a new pod template after the Secret change', () => podHash(shardDeployments('tap')[0]!) !== second);
    const third = podHash(shardDeployments('tap')[0]!);
    resources.create(types().secrets, 'default', secret('unrelated', awsCredentials));
    await sleep(300);
    expect(podHash(shardDeployments('tap')[0]!)).to.equal(third);
  });

  it('scales out and in through the scale subresource, deleting surplus shards', async () => {
    cluster.operator();
    createTap('tap');
    await ready('tap');
    const scaleTo = (replicas: number) =>
      cluster.server.resources.patch(types().cloudTaps, 'default', 'tap', (scale) => ({ ...scale, spec: { replicas } }), 'scale', false);
    scaleTo(4);
    await waitFor('4 shards', () => shardDeployments('tap').length === 4);
    const env = (deployment: Json): Json => {
      const containers = (((deployment.spec as Json).template as Json).spec as Json).containers as Json[];
      return Object.fromEntries((containers[0]!.env as Json[]).map((variable) => [variable.name, variable.value]));
    };
    await waitFor('SHARD_MODULUS 4 everywhere', () => shardDeployments('tap').every((deployment) => env(deployment).SHARD_MODULUS === '4'));
    scaleTo(1);
    await waitFor('1 shard', () => shardDeployments('tap').length === 1);
    expect(labelOf(shardDeployments('tap')[0]!, 'cloudtap.io/shard')).to.equal('0');
    const object = await ready('tap');
    expect((object.status as Json).shards).to.equal(1);
    const leaseNames = ((get(types().roles, 'tap-stitcher')!.rules as Json[])[1]!.resourceNames) as string[];
    expect(leaseNames).to.deep.equal(['tap-shard-0']);
  });

  it('reports a failing shard as Degraded and not Ready, and recovers', async () => {
    cluster.operator();
    createTap('tap', { sizing: { shards: 2 } });
    await ready('tap');
    const { resources } = cluster.server;
    const failing = {
      observedGeneration: 1,
      replicas: 1,
      readyReplicas: 0,
      conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota exceeded' }],
    };
    resources.patch(types().deployments, 'default', 'tap-shard-1', (current) => ({ ...current, status: failing }), 'status', false);
    const degraded = await waitFor('Degraded True', () => {
      const condition = conditionOf(get(types().cloudTaps, 'tap'), 'Degraded');
      return condition?.status === 'True' && condition;
    });
    expect(degraded.message).to.include('shard 1').and.include('FailedCreate');
    const object = get(types().cloudTaps, 'tap')!;
    expect(conditionOf(object, 'Ready')).to.include({ status: 'False', message: '1/2 shards ready' });
    expect((object.status as Json).readyShards).to.equal(1);
    const healthy = { observedGeneration: 1, replicas: 1, readyReplicas: 1 };
    resources.patch(types().deployments, 'default', 'tap-shard-1', (current) => ({ ...current, status: healthy }), 'status', false);
    await ready('tap');
    expect(conditionOf(get(types().cloudTaps, 'tap'), 'Degraded')?.status).to.equal('False');
  });

  /** Successful reconciles so far, from the operator's own metric. */
  async function reconciled(operator: Operator): Promise<number> {
    const metric = await operator.metrics.reconciles.get();
    return metric.values.find((value) => value.labels.result === 'success')?.value ?? 0;
  }

  it('shows the shards\' throughput and lag, rewrites them only when they move, and calls a silent shard Degraded', async () => {
    // Shards report every 500 ms here, so a report is stale after 3 s.
    const operator = cluster.operator({ reportIntervalMs: 500 });
    createTap('tap', { sizing: { shards: 2 }, stitcher: { pollInterval: '100ms' } });
    await ready('tap');
    const live = new Map<number, ShardLoad>([[0, { mbps: 150, lagMs: 12_000 }], [1, { mbps: 250, lagMs: 40_400 }]]);
    const refresh = () => live.forEach((load, shard) => writeShardReport(cluster, 'tap', shard, load));
    refresh();
    const timer = setInterval(refresh, 250);
    try {
      await waitFor('throughput summed and the largest lag', () => {
        const status = get(types().cloudTaps, 'tap')?.status as Json;
        return status.throughputMbps === 400 && status.lagSeconds === 40;
      });

      // A report within noise (+2.5% throughput, lag 3 s longer): reconciled, nothing written.
      await sleep(200);
      const writesBefore = cluster.server.writes.length;
      const reconcilesBefore = await reconciled(operator);
      live.set(0, { mbps: 160, lagMs: 15_000 });
      refresh();
      const deadline = Date.now() + 10_000;
      while ((await reconciled(operator)) <= reconcilesBefore && Date.now() < deadline) await sleep(20);
      expect(await reconciled(operator)).to.be.greaterThan(reconcilesBefore);
      await sleep(300); // a write, had there been one, would be in by now
      const writes = cluster.server.writes.slice(writesBefore);
      expect(writes, JSON.stringify(writes)).to.deep.equal([]);

      // A real change is written.
      live.set(0, { mbps: 750, lagMs: 15_000 });
      refresh();
      await waitFor('the new throughput', () => (get(types().cloudTaps, 'tap')?.status as Json).throughputMbps === 1000);
      expect(conditionOf(get(types().cloudTaps, 'tap'), 'Degraded')?.status).to.equal('False');

      // Shard 1 stops reporting: no event says so, the operator looks again when its report goes stale.
      live.delete(1);
      const degraded = await waitFor('Degraded for the silent shard', () => {
        const condition = conditionOf(get(types().cloudTaps, 'tap'), 'Degraded');
        return condition?.status === 'True' && condition;
      });
      expect(degraded.reason).to.equal('ShardNotReporting');
      expect(degraded.message).to.match(/^shard 1: no status report since \d{4}-/);
      const status = get(types().cloudTaps, 'tap')!.status as Json;
      expect([status.throughputMbps, status.lagSeconds]).to.deep.equal([750, 15]);
      // A shard that does not report is not ready, even with its pod up.
      const ready = conditionOf(get(types().cloudTaps, 'tap'), 'Ready');
      expect([ready?.status, ready?.reason]).to.deep.equal(['False', 'ShardNotReporting']);

      // No shard reports: no numbers at all rather than old ones.
      live.clear();
      await waitFor('the numbers removed', () => {
        const latest = get(types().cloudTaps, 'tap')?.status as Json;
        return !('throughputMbps' in latest) && !('lagSeconds' in latest);
      });
      expect(conditionOf(get(types().cloudTaps, 'tap'), 'Degraded')?.message).to.include('shard 0').and.include('shard 1');
    } finally {
      clearInterval(timer);
    }
  });

  it('ignores the reports of shards removed by a scale-in', async () => {
    cluster.operator();
    createTap('tap', { sizing: { shards: 2 } });
    await ready('tap');
    writeShardReport(cluster, 'tap', 0, { mbps: 30, lagMs: 5_000 });
    writeShardReport(cluster, 'tap', 1, { mbps: 70, lagMs: 300_000 });
    await waitFor('both shards counted', () => (get(types().cloudTaps, 'tap')?.status as Json).throughputMbps === 100);
    cluster.server.resources.patch(types().cloudTaps, 'default', 'tap', (current) => ({ ...current, spec: { ...(current.spec as Json), sizing: { shards: 1 } } }), undefined, false);
    await waitFor('one shard counted', () => (get(types().cloudTaps, 'tap')?.status as Json).throughputMbps === 30);
    const status = get(types().cloudTaps, 'tap')!.status as Json;
    expect([status.shards, status.lagSeconds]).to.deep.equal([1, 5]);
  });

  it('leaves deletion to the garbage collector: children go with the CloudTap', async () => {
    cluster.operator();
    createTap('tap', { sizing: { shards: 2 } });
    await ready('tap');
    cluster.server.resources.delete(types().cloudTaps, 'default', 'tap', { propagationPolicy: 'Background' });
    await waitFor('children collected', () => shardDeployments('tap').length === 0 && !get(types().configMaps, 'tap-config'));
  });

  it('says what to fix: the schema rejects some mistakes, conditions name the rest', async () => {
    cluster.operator();
    const { resources } = cluster.server;
    expect(() => resources.create(types().cloudTaps, 'default', cloudTap('bad', { targets: [{ name: 'x', type: 'vxlan', host: 'h' }] })))
      .to.throw(/spec\.targets\[0\].*vni is required/);
    resources.create(types().cloudTaps, 'default', cloudTap('nosecret'));
    const missing = await waitFor('CredentialsValid False', () => {
      const condition = conditionOf(get(types().cloudTaps, 'nosecret'), 'CredentialsValid');
      return condition?.status === 'False' && condition;
    });
    expect(missing.reason).to.equal('SecretNotFound');
    expect(missing.message).to.include('nosecret-creds');
    resources.create(types().secrets, 'default', secret('badsubnet-creds', awsCredentials));
    expect(() => resources.create(types().cloudTaps, 'default', cloudTap('badsubnet', { selection: { subnets: ['not-a-cidr'] } })))
      .to.throw(/spec\.selection\.subnets\[0\].*must be a CIDR/);
    // The schema cannot say that a capture-file target takes no send rate: the operator does.
    resources.create(types().cloudTaps, 'default', cloudTap('badsubnet', { targets: [{ name: 'files', type: 'pcapVolume', claimName: 'pcaps', rate: 10 }] }));
    const invalid = await waitFor('Reconciled False', () => {
      const condition = conditionOf(get(types().cloudTaps, 'badsubnet'), 'Reconciled');
      return condition?.status === 'False' && condition;
    });
    expect(invalid.message).to.include('spec.targets[0].rate');
    expect(shardDeployments('badsubnet')).to.have.length(0);
    resources.create(types().secrets, 'default', secret('leaky-creds', { access_key_id: 'AKIAFAKE', secret_access_key: 42 }));
    resources.create(types().cloudTaps, 'default', cloudTap('leaky'));
    // The Secret's watch event may come after the CloudTap's: wait until the Secret was read.
    const wrong = await waitFor('credentials judged', () => {
      const condition = conditionOf(get(types().cloudTaps, 'leaky'), 'CredentialsValid');
      return condition?.reason !== 'SecretNotFound' && condition;
    });
    expect(wrong.message).to.include('secret_access_key').and.not.include('AKIAFAKE');
  });

  it('reads a referenced Secret only from the CloudTap\'s own namespace', async () => {
    const { resources } = cluster.server;
    resources.create(cluster.type('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    resources.create(types().secrets, 'default', secret('tap-creds', awsCredentials));
    resources.create(types().cloudTaps, 'other', cloudTap('tap', {}, 'other'));
    cluster.operator();
    const condition = await waitFor('CredentialsValid False', () => {
      const found = conditionOf(cluster.server.resources.storage.get(types().cloudTaps, 'other', 'tap'), 'CredentialsValid');
      return found?.status === 'False' && found;
    });
    expect(condition.reason).to.equal('SecretNotFound');
    resources.create(types().secrets, 'other', secret('tap-creds', awsCredentials, 'other'));
    await waitFor('Ready once the Secret is in its namespace', () => conditionOf(cluster.server.resources.storage.get(types().cloudTaps, 'other', 'tap'), 'Ready')?.status === 'True');
  });

  it('leaves CloudTaps outside its namespace alone when told to watch one', async () => {
    const { resources } = cluster.server;
    resources.create(cluster.type('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taps' } });
    resources.create(types().secrets, 'taps', secret('mine-creds', awsCredentials, 'taps'));
    resources.create(types().cloudTaps, 'taps', cloudTap('mine', {}, 'taps'));
    createTap('theirs');
    const operator = cluster.operator({ namespace: 'taps' });
    await waitFor('the watched one Ready', () => conditionOf(resources.storage.get(types().cloudTaps, 'taps', 'mine'), 'Ready')?.status === 'True');
    await waitFor('synced', () => operator.isReady);
    expect(get(types().cloudTaps, 'theirs')!.status).to.equal(undefined);
    expect(shardDeployments('theirs')).to.have.length(0);
  });

  it('does not adopt an object it does not own, and says so in a Warning event', async () => {
    const { resources } = cluster.server;
    resources.create(types().configMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tap-config' }, data: { mine: 'yes' } });
    cluster.operator();
    createTap('tap');
    const condition = await waitFor('Reconciled False', () => {
      const found = conditionOf(get(types().cloudTaps, 'tap'), 'Reconciled');
      return found?.status === 'False' && found;
    });
    expect(condition.reason).to.equal('ChildNotOwned');
    expect((get(types().configMaps, 'tap-config')!.data as Json).mine).to.equal('yes');
    const warning = await waitFor('a Warning event', () => list(types().events).find((event) => event.type === 'Warning' && event.reason === 'ChildNotOwned'));
    expect((warning.involvedObject as Json).name).to.equal('tap');
  });

  it('writes nothing in steady state, also after a restart', async () => {
    const first = cluster.operator();
    createTap('a', { sizing: { shards: 2 } });
    createTap('b');
    await ready('a');
    await ready('b');
    await sleep(300);
    await first.stop();
    const writesBefore = cluster.server.writes.length;
    const second = cluster.operator();
    await waitFor('the new operator synced', () => second.isReady);
    await sleep(2500); // past one periodic relist (resyncMs 2000) and its replayed reconciles
    const writes = cluster.server.writes.slice(writesBefore);
    expect(writes, JSON.stringify(writes)).to.deep.equal([]);
    expect(await second.metrics.reconciles.get()).to.satisfy((metric: { values: { value: number }[] }) => metric.values.some((value) => value.value > 0));
  });

  it('keeps working after dropped watches and a compacted history (410 Gone)', async () => {
    cluster.operator();
    createTap('tap');
    await ready('tap');
    cluster.server.resources.storage.compact();
    cluster.server.dropWatches();
    cluster.server.resources.patch(types().cloudTaps, 'default', 'tap', (current) => ({ ...current, spec: { ...(current.spec as Json), sizing: { shards: 3 } } }), undefined, false);
    await waitFor('3 shards after the watch restarted', () => shardDeployments('tap').length === 3);
  });

  it('runs one leader among two operators, and the other takes over when it stops', async () => {
    const election = (identity: string) => ({ leaderElection: { namespace: 'default', identity, leaseDurationSeconds: 2, retryPeriodMs: 100 } });
    const one = cluster.operator(election('one'));
    const two = cluster.operator(election('two'));
    await waitFor('a leader', () => one.isActive || two.isActive);
    await sleep(500);
    expect([one.isActive, two.isActive].filter(Boolean)).to.have.length(1);
    const [leader, standby] = one.isActive ? [one, two] : [two, one];
    createTap('tap');
    await ready('tap');
    await leader.stop();
    await waitFor('the standby leads', () => standby.isActive);
    const lease = cluster.server.resources.storage.get(cluster.type('coordination.k8s.io', 'v1', 'leases'), 'default', 'cloudtap-operator');
    expect((lease!.spec as Json).holderIdentity).to.equal(standby === one ? 'one' : 'two');
    cluster.server.resources.patch(types().cloudTaps, 'default', 'tap', (current) => ({ ...current, spec: { ...(current.spec as Json), sizing: { shards: 2 } } }), undefined, false);
    await waitFor('the new leader reconciles', () => shardDeployments('tap').length === 2);
  });

  it('surfaces API errors as ApiException with the HTTP code (client-node 2 contract)', async () => {
    const { KubernetesObjectApi } = await import('@kubernetes/client-node');
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
    const error = await api.read({ apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'absent', namespace: 'default' } }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(ApiException);
    expect((error as ApiException<unknown>).code).to.equal(404);
  });
});
