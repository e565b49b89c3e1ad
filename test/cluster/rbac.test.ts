/**
 * Least privilege on the real apiserver: the chart's RBAC, applied as helm
 * renders it for a list of namespaces, is all the operator needs (the real
 * controller runs as the chart's ServiceAccount, impersonated) and no more
 * (`kubectl auth can-i --as` for the operator and a shard's ServiceAccount).
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { Operator } from '../../operator/controller/controller.js';
import { projectRoot } from '../support/paths.js';
import { installCrd, joinCluster, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';
import { toolPath } from './tools.js';

type Json = Record<string, unknown>;
const run = promisify(execFile);
const release = { name: 'ct', namespace: 'cloudtap-system', serviceAccount: 'ct-cloudtap' };
const watched = 'tenant-a';
const unwatched = 'tenant-b';

/** [verb, resource, namespace, expected] as the can-i table in docs/operator.md lists them. */
type Check = readonly [string, string, string | undefined, boolean];

const operatorChecks: Check[] = [
  ['get', 'secrets', watched, true],
  ['list', 'secrets', watched, false],
  ['watch', 'secrets', watched, false],
  ['get', 'secrets', unwatched, false],
  ['list', 'secrets', undefined, false],
  ['watch', 'cloudtaps.cloudtap.io', watched, true],
  ['list', 'cloudtaps.cloudtap.io', unwatched, false],
  ['update', 'cloudtaps.cloudtap.io', watched, false],
  ['patch', 'cloudtaps.cloudtap.io', watched, true],
  ['patch', 'cloudtaps.cloudtap.io', unwatched, false],
  ['delete', 'cloudtaps.cloudtap.io', watched, false],
  ['patch', 'cloudtaps.cloudtap.io/status', watched, true],
  ['create', 'deployments.apps', watched, true],
  ['create', 'deployments.apps', unwatched, false],
  ['create', 'pods', watched, false],
  ['create', 'roles.rbac.authorization.k8s.io', watched, true],
  ['create', 'clusterroles.rbac.authorization.k8s.io', undefined, false],
  ['update', 'leases.coordination.k8s.io', release.namespace, true],
  ['create', 'events', watched, true],
  ['list', 'nodes', undefined, false],
];

describe('cluster: least privilege, judged by the real RBAC authorizer', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let operator: Operator | undefined;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  before(async function () {
    cluster = await joinCluster(this);
    await installCrd(admin);
    for (const namespace of [release.namespace, watched, unwatched]) await admin('create', 'namespace', namespace);
    // The chart's RBAC and ServiceAccount exactly as helm renders them (the operator's own pod is not needed here).
    const { stdout } = await run(toolPath('helm'), ['template', release.name, join(projectRoot, 'charts', 'cloudtap'), '--namespace', release.namespace, '--set', `watchNamespaces={${watched}}`]);
    const rbac = parseAllDocuments(stdout).map((document) => document.toJS() as Json).filter((object) => object && ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(String(object.kind)));
    const file = join(cluster.plane.dir, 'chart-rbac.yaml');
    writeFileSync(file, rbac.map((object) => stringify(object)).join('---\n'));
    const applied = await admin('apply', '-f', file);
    expect(applied.ok, applied.stderr).to.equal(true);
  });

  after(async () => {
    await operator?.stop();
    if (cluster) for (const namespace of [release.namespace, watched, unwatched]) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  async function canI(as: string, [verb, resource, namespace]: Check): Promise<boolean> {
    const [kind, subresource] = resource.split('/') as [string, string | undefined];
    const result = await admin('auth', 'can-i', verb, kind, ...(subresource ? ['--subresource', subresource] : []), '--as', as, ...(namespace ? ['-n', namespace] : ['--all-namespaces']));
    return result.stdout.trim() === 'yes';
  }

  it('the operator\'s ServiceAccount can do what the controller does in its namespaces, and nothing else', async () => {
    const as = `system:serviceaccount:${release.namespace}:${release.serviceAccount}`;
    const table: string[] = [];
    for (const check of operatorChecks) {
      const allowed = await canI(as, check);
      table.push(`${check[0]} ${check[1]} ${check[2] ?? '(all namespaces)'}: ${allowed ? 'yes' : 'no'}`);
      expect(allowed, `${check[0]} ${check[1]} in ${check[2] ?? 'all namespaces'}`).to.equal(check[3]);
    }
    if (process.env.CLOUDTAP_PRINT_CAN_I) console.log(table.join('\n'));
  });

  it('that RBAC is enough: the controller, as that ServiceAccount, reconciles a CloudTap whose Secret it reads by name', async () => {
    const objects = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gcs-creds', namespace: watched }, stringData: { 'credentials.json': JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' }) } },
      { apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'tap', namespace: watched }, spec: { source: { provider: 'gcs', bucket: 'taps', credentialsSecretRef: { name: 'gcs-creds' } }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }] } },
    ];
    const file = join(cluster.plane.dir, 'tenant-a.yaml');
    writeFileSync(file, objects.map((object) => stringify(object)).join('---\n'));
    const applied = await admin('apply', '-f', file);
    expect(applied.ok, applied.stderr).to.equal(true);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.kubeconfigAs(release.namespace, release.serviceAccount));
    operator = new Operator({ kubeConfig, namespaces: [watched], resyncMs: 60_000, queue: { baseDelayMs: 200 }, leaderElection: { namespace: release.namespace, identity: 'rbac-test', leaseDurationSeconds: 15 } });
    operator.start();
    let conditions: Json[] = [];
    for (let tries = 0; tries < 150; tries++) {
      const got = await admin('get', 'cloudtap', 'tap', '-n', watched, '-o', 'json');
      conditions = ((JSON.parse(got.stdout || '{}') as { status?: { conditions?: Json[] } }).status?.conditions) ?? [];
      if (conditions.some((condition) => condition.type === 'Reconciled' && condition.status === 'True')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const byType = Object.fromEntries(conditions.map((condition) => [condition.type, condition]));
    expect((byType.Reconciled as Json | undefined)?.status, JSON.stringify(conditions)).to.equal('True');
    expect((byType.CredentialsValid as Json | undefined)?.reason).to.equal('CredentialsFound');
    const got = await admin('get', 'deployment', 'tap-shard-0', '-n', watched);
    expect(got.ok, got.stderr).to.equal(true);
  });

  it('a shard\'s ServiceAccount may hold its own Lease and checkpoint, and read no Secret', async () => {
    const as = `system:serviceaccount:${watched}:tap-stitcher`;
    const named = async (verb: string, resource: string, name: string) =>
      (await admin('auth', 'can-i', verb, `${resource}/${name}`, '--as', as, '-n', watched)).stdout.trim() === 'yes';
    expect(await named('update', 'leases.coordination.k8s.io', 'tap-shard-0'), 'update leases.coordination.k8s.io tap-shard-0').to.equal(true);
    expect(await named('update', 'configmaps', 'tap-shard-0-checkpoint'), 'update configmaps tap-shard-0-checkpoint').to.equal(true);
    expect(await named('update', 'leases.coordination.k8s.io', 'other-shard-0'), 'update leases.coordination.k8s.io other-shard-0').to.equal(false);
    expect(await named('update', 'configmaps', 'tap-config'), 'update configmaps tap-config').to.equal(false);
    expect(await named('get', 'secrets', 'gcs-creds'), 'get secrets gcs-creds').to.equal(false);
    for (const check of [['list', 'secrets', watched, false], ['list', 'configmaps', watched, false], ['create', 'pods', watched, false], ['get', 'cloudtaps.cloudtap.io', watched, false]] as const) {
      expect(await canI(as, check), `${check[0]} ${check[1]}`).to.equal(false);
    }
  });
});
