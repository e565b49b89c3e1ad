/**
 * cloudtap as a user runs it, on a real control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) with the node agent running the
 * pods: helm install, kubectl apply, the operator reconciling, shards started
 * by the real Deployment machinery with their own ServiceAccount, traffic from
 * a local bucket (Azurite on the node address) out byte for byte, scale,
 * Secret roll, a killed shard, two operators, and delete through the real
 * garbage collector. The steps run in order; each one is a test that fails
 * on its own when its behaviour breaks.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { openStore } from '../../stitcher/store/open.js';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../servers/azurite.js';
import { projectRoot } from '../support/paths.js';
import { onPath } from '../support/run.js';
import { until } from '../support/until.js';
import { haveTshark } from '../support/tshark.js';
import { gatewaysOf, judgeUnion, keyLogOf } from '../e2e/shards-harness.js';
import { nodeAddress } from './network.js';
import { clusterUnavailable, sharedCluster, type Cluster } from './shared.js';
import { toolPath } from './tools.js';
import { wholeBlocks } from './pcapng-blocks.js';

const run = promisify(execFile);
type Json = Record<string, unknown>;

const operatorNamespace = 'cloudtap';
const namespace = 'taps';
const tap = 'tap-local';

describe('cluster e2e: helm, kubectl, the operator and the shards on a real control plane', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let azurite: Azurite;
  let dir: string;
  let pvDir: string;
  let traffic: GenerateResult | undefined;
  let killedGateways = new Set<string>();
  const env = () => ({ ...process.env, KUBECONFIG: cluster.plane.adminKubeconfig, HELM_CACHE_HOME: join(dir, 'helm'), HELM_CONFIG_HOME: join(dir, 'helm'), HELM_DATA_HOME: join(dir, 'helm') });

  async function kubectl(...args: string[]): Promise<string> {
    const { stdout } = await run(toolPath('kubectl'), ['--cache-dir', join(dir, 'kube-cache'), ...args], { env: env(), cwd: projectRoot, maxBuffer: 64 << 20 });
    return stdout;
  }
  async function getJson(...args: string[]): Promise<Json> {
    return JSON.parse(await kubectl('get', '-o', 'json', ...args)) as Json;
  }
  async function items(...args: string[]): Promise<Json[]> {
    return (await getJson(...args)).items as Json[];
  }
  const nameOf = (object: Json) => (object.metadata as { name: string }).name;
  const podReady = (pod: Json) => ((pod.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

  const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> => until(check, what, { timeoutMs, intervalMs: 500 });

  async function shardPods(): Promise<Json[]> {
    return (await items('pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`))
      .filter((pod) => !(pod.metadata as Json).deletionTimestamp);
  }

  async function allShardsReady(count: number): Promise<boolean> {
    const pods = await shardPods();
    return pods.length === count && pods.every(podReady);
  }

  /** Waits for `count` Ready shard pods; a timeout shows the pods as kubectl does. */
  async function waitForShards(count: number, timeoutMs: number, check: () => Promise<boolean> = () => allShardsReady(count)): Promise<void> {
    await waitFor(`${count} shard pods Ready`, check, timeoutMs).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await kubectl('get', 'pods', '-n', namespace, '-o', 'wide').catch(() => '')}`);
    });
  }

  before(async function () {
    const why = clusterUnavailable() ?? (haveTshark() && onPath('mergecap') ? undefined : 'tshark and mergecap are needed');
    if (why) {
      console.log(`      skipping the cluster e2e: ${why}`);
      this.skip();
    }
    this.timeout(240_000);
    cluster = await sharedCluster();
    dir = join(cluster.plane.dir, 'e2e');
    pvDir = join(dir, 'pv');
    mkdirSync(pvDir, { recursive: true });
    azurite = await startAzurite(nodeAddress);
  });

  after(async () => {
    await azurite?.stop();
  });

  it('helm install: the real apiserver accepts the chart and its CRD, and the operator pod becomes Ready', async () => {
    // --take-ownership: the suites before this one applied the CRD with kubectl (docs/operator.md, "Upgrading").
    const { stdout } = await run(toolPath('helm'), ['install', 'cloudtap', 'charts/cloudtap', '--namespace', operatorNamespace, '--create-namespace', '--take-ownership',
      '--set', 'leaderElection.leaseDurationSeconds=6', '--wait', '--timeout', '120s'], { env: env(), cwd: projectRoot });
    expect(stdout).to.include('STATUS: deployed');
    const crd = await getJson('crd', 'cloudtaps.cloudtap.io');
    const conditions = (crd.status as { conditions: { type: string; status: string }[] }).conditions;
    expect(conditions.find((c) => c.type === 'Established')?.status).to.equal('True');
    expect(conditions.find((c) => c.type === 'NonStructuralSchema'), 'the CRD schema is structural').to.equal(undefined);
    const pods = await items('pods', '-n', operatorNamespace);
    expect(pods.filter(podReady)).to.have.length(1);
  });

  it('kubectl apply --dry-run=server -f examples/: the shipped examples pass the real schema', async () => {
    const applied = await kubectl('apply', '--dry-run=server', '-f', 'examples/');
    for (const name of ['tap-s3', 'tap-gcs', 'tap-azure']) expect(applied).to.include(`cloudtap.cloudtap.io/${name} created (server dry run)`);
  });

  it('refuses invalid CloudTaps, or reports them not Ready with what to fix', async () => {
    await kubectl('create', 'namespace', 'invalid');
    const base = (name: string, patch: string) => `apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: ${name}, namespace: invalid}\nspec:\n  source: {provider: gcs, bucket: b}\n${patch}`;
    const cases: Record<string, string> = {
      'cpu-lots': base('cpu-lots', '  targets: [{name: t, type: pcapOverIp, host: h.example}]\n  sizing: {resources: {requests: {cpu: lots}}}\n'),
      'bad-cidr': base('bad-cidr', '  targets: [{name: t, type: vxlan, host: h.example, vni: 1, remap: {client: 10.0.0.0/33}}]\n'),
      'bad-host': base('bad-host', '  targets: [{name: t, type: pcapOverIp, host: "not a host!"}]\n'),
      '1tap': base('1tap', '  targets: [{name: t, type: pcapOverIp, host: h.example}]\n'),
    };
    const problems: string[] = [];
    for (const [name, text] of Object.entries(cases)) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, text);
      const refused = await kubectl('apply', '-f', file).then(() => false, () => true);
      if (refused) continue;
      // Accepted: then the operator must say what is wrong and never call it Ready.
      await waitFor(`${name} has a Ready condition`, async () => Boolean(((await getJson('cloudtap', '-n', 'invalid', name)).status as Json | undefined)?.conditions), 30_000).catch(() => undefined);
      const status = (await getJson('cloudtap', '-n', 'invalid', name)).status as { conditions?: { type: string; status: string; message: string }[] } | undefined;
      const ready = status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'False') problems.push(`${name}: accepted and Ready=${ready?.status ?? 'missing'}`);
    }
    await kubectl('delete', 'namespace', 'invalid', '--wait=false');
    expect(problems).to.deep.equal([]);
  });

  it('kubectl apply -f of the local example: a Secret, a claim on a volume and a CloudTap reading Azurite', async () => {
    // kubectl create namespace sends protobuf; the real apiserver takes it
    expect(await kubectl('create', 'namespace', namespace)).to.include('created');
    const example = readFileSync(join(projectRoot, 'examples', 'azure.yaml'), 'utf8');
    expect(example).to.include('name: tap-azure');
    const manifest = [
      `apiVersion: v1\nkind: Secret\nmetadata: {name: ${tap}-credentials, namespace: ${namespace}}\ntype: Opaque\nstringData:\n  credentials.json: '{"access_key": "${AZURITE_KEY}"}'\n`,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: tap-other-credentials, namespace: ${namespace}}\ntype: Opaque\nstringData:\n  credentials.json: '{"access_key": "other"}'\n`,
      `apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: ${tap}-pcap}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteMany]\n  storageClassName: manual\n  hostPath: {path: ${pvDir}}\n`,
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: cloudtap-pcap, namespace: ${namespace}}\nspec:\n  accessModes: [ReadWriteMany]\n  storageClassName: manual\n  volumeName: ${tap}-pcap\n  resources: {requests: {storage: 1Gi}}\n`,
      `apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: ${tap}, namespace: ${namespace}}\nspec:\n` +
      `  source: {provider: azure, account: ${AZURITE_ACCOUNT}, bucket: tap, prefix: run/, endpoint: "${azurite.endpoint}", credentialsSecretRef: {name: ${tap}-credentials}}\n` +
      `  targets: [{name: archive, type: pcapVolume, claimName: cloudtap-pcap, rotateSize: 200M}]\n` +
      '  sizing: {shards: 2, resources: {requests: {cpu: 10m, memory: 64Mi}}}\n  stitcher: {pollInterval: 1s, keyWait: 5s}\n',
    ].join('---\n');
    const file = join(dir, 'local.yaml');
    writeFileSync(file, manifest);
    await new ContainerClient(`${azurite.endpoint}/tap`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).create();
    const applied = await kubectl('apply', '-f', file);
    expect(applied).to.include(`cloudtap.cloudtap.io/${tap} created`);
    await waitFor('the claim is bound by the persistent-volume controller', async () => ((await getJson('pvc', '-n', namespace, 'cloudtap-pcap')).status as { phase: string }).phase === 'Bound');
  });

  it('the operator reconciles: shard Deployments owned by the CloudTap, ReplicaSets and pods through the real controllers', async () => {
    await waitForShards(2, 120_000);
    const cloudTap = await getJson('cloudtap', '-n', namespace, tap);
    const uid = (cloudTap.metadata as { uid: string }).uid;
    const deployments = await items('deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`);
    expect(deployments.map(nameOf).sort()).to.deep.equal([`${tap}-shard-0`, `${tap}-shard-1`]);
    for (const deployment of deployments) {
      const owners = (deployment.metadata as { ownerReferences: { uid: string; controller: boolean }[] }).ownerReferences;
      expect(owners.some((o) => o.uid === uid && o.controller), `a controller owner ${uid} in ${JSON.stringify(owners)}`).to.equal(true);
    }
    const replicaSets = await items('replicasets', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`);
    expect(replicaSets.length).to.be.at.least(2);
    for (const pod of await shardPods()) {
      expect((pod.spec as { serviceAccountName: string }).serviceAccountName).to.equal(`${tap}-stitcher`);
      expect((pod.spec as { nodeName: string }).nodeName, 'bound by the scheduler').to.equal(cluster.node.name);
    }
  });

  it('kubectl wait --for=condition=Ready returns, and kubectl get cloudtaps shows Ready', async () => {
    const started = Date.now();
    await kubectl('wait', '--for=condition=Ready', `cloudtap/${tap}`, '-n', namespace, '--timeout=60s');
    expect(Date.now() - started, 'kubectl wait returned promptly').to.be.lessThan(30_000);
    const [header, row] = (await kubectl('get', 'cloudtaps', '-n', namespace)).trim().split('\n');
    const columns = header!.split(/\s+/);
    expect(columns).to.deep.equal(['NAME', 'PROVIDER', 'BUCKET', 'TARGETS', 'SHARDS', 'READY', 'DEGRADED', 'LAG', 'AGE']);
    const cells = row!.split(/\s+/);
    expect(cells.slice(0, 7)).to.deep.equal([tap, 'azure', 'tap', 'archive', '2', 'True', 'False']);
  });

  it('each shard holds its Lease and writes its checkpoint with its own ServiceAccount', async () => {
    const pods = (await shardPods()).map(nameOf);
    await waitFor('both Leases held by shard pods', async () => {
      const holders = await Promise.all([0, 1].map(async (shard) => ((await getJson('lease', '-n', namespace, `${tap}-shard-${shard}`)).spec as { holderIdentity?: string }).holderIdentity));
      return holders.every((holder) => holder !== undefined && pods.includes(holder));
    }, 60_000);
    await waitFor('both checkpoints written', async () => {
      const maps = await Promise.all([0, 1].map((shard) => getJson('configmap', '-n', namespace, `${tap}-shard-${shard}-checkpoint`)));
      return maps.every((map) => typeof (map.data as Record<string, string> | undefined)?.['checkpoint.json'] === 'string');
    }, 60_000);
  });

  it('RBAC: a shard\'s own token reads its Lease but gets 403 on another CloudTap\'s Secret', async () => {
    const pod = nameOf((await shardPods())[0]!);
    const folder = cluster.node.podDir(pod)!;
    const volumes = readdirSync(join(folder, 'volumes')).filter((name) => existsSync(join(folder, 'volumes', name, 'token')));
    expect(volumes, 'the projected service-account token volume the admission plugin added').to.have.length(1);
    const token = readFileSync(join(folder, 'volumes', volumes[0]!, 'token'), 'utf8');
    const asShard = (path: string) => run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', cluster.plane.pki.ca.cert, '-H', `Authorization: Bearer ${token}`, `${cluster.plane.server}${path}`]).then((r) => r.stdout);
    expect(await asShard(`/api/v1/namespaces/${namespace}/secrets/tap-other-credentials`)).to.equal('403');
    expect(await asShard(`/api/v1/namespaces/${namespace}/secrets/${tap}-credentials`)).to.equal('403');
    const leases = await Promise.all([0, 1].map((shard) => asShard(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${tap}-shard-${shard}`)));
    expect(leases).to.deep.equal(['200', '200']);
    // and as kubectl --as sees it
    const impersonated = cluster.plane.kubeconfigAs(namespace, `${tap}-stitcher`);
    const denied = await run(toolPath('kubectl'), ['--kubeconfig', impersonated, 'get', 'secret', '-n', namespace, 'tap-other-credentials']).then(() => '', (error: { stderr: string }) => error.stderr);
    expect(denied).to.include('Forbidden');
  });

  it('traffic from the bucket comes out, and a shard process killed with SIGKILL is restarted and resumes', async () => {
    const storeUrl = `azblob://${AZURITE_ACCOUNT}/tap/run/?endpoint=${encodeURIComponent(azurite.endpoint)}`;
    const store = await openStore(storeUrl, { credentialsFile: writeCredentials(dir), role: 'output' });
    const generating = generateTraffic({ traffic: store, flows: 16, gateways: 4, seed: 'cluster-e2e', httpsShare: 0.5, h2Share: 0, bodyBytes: [20_000, 200_000], objectBytes: 24 * 1024 });
    const victim = (await shardPods()).find((pod) => (pod.metadata as { labels: Record<string, string> }).labels['cloudtap.io/shard'] === '0')!;
    const victimName = nameOf(victim);
    await waitFor('shard 0 wrote part of the traffic', async () => filesUnder(join(pvDir, 'shard-0')).some((file) => statSync(file).size > 20_000), 60_000);
    cluster.node.processOf(victimName)!.kill('SIGKILL');
    traffic = await generating;
    killedGateways = gatewaysOf(traffic, 0, 2);
    await waitFor('the kubelet-like agent restarted it and the pod status says so', async () => {
      const status = (await getJson('pod', '-n', namespace, victimName)).status as { containerStatuses: { restartCount: number; ready: boolean }[] };
      return status.containerStatuses[0]!.restartCount === 1 && status.containerStatuses[0]!.ready;
    }, 60_000);
    await waitUntilCaughtUp(traffic);
  });

  async function waitUntilCaughtUp(result: GenerateResult): Promise<void> {
    const last = new Map<string, bigint>();
    for (const object of result.objects.filter((o) => o.kind === 'traffic')) if (object.seq >= (last.get(object.gateway) ?? -1n)) last.set(object.gateway, object.seq);
    await waitFor('every shard checkpoint past the last object, with no open flow', async () => {
      const entries = new Map<string, { nextSeq: string; flows: unknown[] }>();
      for (const shard of [0, 1, 2]) {
        const map = await getJson('configmap', '-n', namespace, `${tap}-shard-${shard}-checkpoint`).catch(() => undefined);
        const text = (map?.data as Record<string, string> | undefined)?.['checkpoint.json'];
        if (!text) continue;
        const checkpoint = JSON.parse(text) as { gateways: Record<string, { nextSeq: string; flows: unknown[] }> };
        for (const [gateway, entry] of Object.entries(checkpoint.gateways)) {
          const known = entries.get(gateway);
          if (!known || BigInt(entry.nextSeq) > BigInt(known.nextSeq)) entries.set(gateway, entry);
        }
      }
      return [...last].every(([gateway, seq]) => {
        const entry = entries.get(gateway);
        return entry !== undefined && BigInt(entry.nextSeq) > seq && entry.flows.length === 0;
      });
    }, 120_000);
  }

  it('kubectl get cloudtaps shows the Lag the shards report', async () => {
    await waitFor('a Lag in the status', async () => typeof ((await getJson('cloudtap', '-n', namespace, tap)).status as { lagSeconds?: number }).lagSeconds === 'number', 90_000);
    const [header, row] = (await kubectl('get', 'cloudtap', tap, '-n', namespace)).trim().split('\n');
    const lag = row!.split(/\s+/)[header!.split(/\s+/).indexOf('LAG')];
    expect(lag).to.match(/^\d+$/);
  });

  it('kubectl scale --replicas=3 adds a shard Deployment and its pod', async () => {
    expect(await kubectl('scale', 'cloudtap', tap, '-n', namespace, '--replicas=3')).to.include('scaled');
    await waitForShards(3, 120_000);
    expect((await items('deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap}`)).map(nameOf).sort())
      .to.deep.equal([0, 1, 2].map((shard) => `${tap}-shard-${shard}`));
    await kubectl('wait', '--for=condition=Ready', `cloudtap/${tap}`, '-n', namespace, '--timeout=60s');
  });

  it('a change of the credentials Secret rolls every shard', async () => {
    const before = new Set((await shardPods()).map((pod) => (pod.metadata as { uid: string }).uid));
    const patch = JSON.stringify({ stringData: { 'credentials.json': JSON.stringify({ access_key: AZURITE_KEY, note: 'rotated' }) } });
    await kubectl('patch', 'secret', `${tap}-credentials`, '-n', namespace, '--type=merge', '-p', patch);
    await waitForShards(3, 150_000, async () => {
      const pods = await shardPods();
      return pods.length === 3 && pods.every((pod) => !before.has((pod.metadata as { uid: string }).uid) && podReady(pod));
    });
  });

  it('two operators: one leader holds the Lease, the other takes over when it goes', async () => {
    await kubectl('scale', 'deployment', '-n', operatorNamespace, '-l', 'app.kubernetes.io/name=cloudtap', '--replicas=2');
    const operators = async () => (await items('pods', '-n', operatorNamespace)).filter((pod) => !(pod.metadata as Json).deletionTimestamp);
    await waitFor('2 operator pods Ready', async () => (await operators()).filter(podReady).length === 2, 90_000);
    const leases = await items('leases', '-n', operatorNamespace);
    const names = (await operators()).map(nameOf);
    const leader = leases.map((lease) => (lease.spec as { holderIdentity?: string }).holderIdentity).find((holder) => holder && names.includes(holder));
    expect(leader, `a Lease in ${operatorNamespace} held by one of ${names.join(', ')}`).to.not.equal(undefined);
    await kubectl('delete', 'pod', '-n', operatorNamespace, leader!);
    await waitFor('another operator holds the Lease', async () => {
      const now = (await items('leases', '-n', operatorNamespace)).map((lease) => (lease.spec as { holderIdentity?: string }).holderIdentity);
      const alive = (await operators()).map(nameOf);
      return now.some((holder) => holder !== undefined && holder !== leader && alive.includes(holder));
    }, 90_000);
  });

  it('kubectl delete: the garbage collector removes every child, and the captures hold every flow byte for byte', async () => {
    expect(await kubectl('delete', 'cloudtap', tap, '-n', namespace, '--wait=true', '--timeout=120s')).to.include('deleted');
    let left: string[] = [];
    // The checkpoint ConfigMaps are the stitchers', not the operator's children: they stay (no owner reference).
    await waitFor('no child of the CloudTap left', async () => {
      left = (await items('deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,configmaps', '-n', namespace, '-l', `app.kubernetes.io/instance=${tap},app.kubernetes.io/component!=checkpoint`))
        .map((object) => `${String(object.kind)}/${nameOf(object)}`);
      return left.length === 0;
    }, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${left.join(', ')}`);
    });
    expect(traffic, 'the traffic step ran').to.not.equal(undefined);
    const files = filesUnder(pvDir).filter((file) => file.endsWith('.pcapng')).sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    expect(files.length).to.be.greaterThan(0);
    const whole = files.map((file) => wholeBlocks(file, `${file}.whole`));
    const union = join(dir, 'union.pcapng');
    await run('mergecap', ['-a', '-F', 'pcapng', '-w', union, ...whole]);
    const keyStore = await openStore(`azblob://${AZURITE_ACCOUNT}/tap/run/?endpoint=${encodeURIComponent(azurite.endpoint)}`, { credentialsFile: writeCredentials(dir), role: 'source' });
    const keylog = await keyLogOf(keyStore, join(dir, 'keys.log'));
    const bound = traffic!.flows.filter((flow) => killedGateways.has(flow.gateway)).reduce((n, flow) => n + flow.bytesC2s + flow.bytesS2c, 0);
    await judgeUnion(union, traffic!, keylog, killedGateways, bound);
  });

  it('helm uninstall removes the operator and keeps the CRD (and so every CloudTap)', async () => {
    const { stdout } = await run(toolPath('helm'), ['uninstall', 'cloudtap', '--namespace', operatorNamespace, '--wait', '--timeout', '60s'], { env: env(), cwd: projectRoot });
    expect(stdout).to.include('uninstalled');
    expect(await items('deployments', '-n', operatorNamespace)).to.have.length(0);
    expect(nameOf(await getJson('crd', 'cloudtaps.cloudtap.io'))).to.equal('cloudtaps.cloudtap.io');
  });
});

function writeCredentials(dir: string): string {
  const file = join(dir, 'azurite.json');
  writeFileSync(file, JSON.stringify({ access_key: AZURITE_KEY }), { mode: 0o600 });
  return file;
}

function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).map((name) => join(folder, name)).filter((path) => statSync(path).isFile());
}
