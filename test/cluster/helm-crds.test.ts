/**
 * The chart owns the CRD as cert-manager's does (templates generated from
 * crds/, `helm.sh/resource-policy: keep`), judged by the real Helm against the
 * real apiserver: an install adopts a CRD that is already there, `helm
 * upgrade` changes the CRD the apiserver serves, and `helm uninstall` leaves
 * the CRD and every CloudTap in place.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { projectRoot } from '../support/paths.js';
import { installCrd, joinCluster, type Cluster } from './shared.js';
import { kubectlAs, type KubectlResult } from './kubectl.js';
import { toolPath } from './tools.js';

const run = promisify(execFile);
const release = 'crds';
const namespace = 'helm-crds';
const crdName = 'cloudtaps.cloudtap.io';
const crdTemplate = join('templates', 'crds', 'cloudtap.io_cloudtaps.yaml');

interface ServedCrd {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { versions: { name: string; additionalPrinterColumns?: { name: string }[] }[] };
}

describe('cluster: helm installs, upgrades and keeps the CloudTap CRD', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  function helm(...args: string[]): Promise<KubectlResult> {
    const home = join(cluster.plane.dir, 'helm-crds');
    const env = { ...process.env, KUBECONFIG: cluster.plane.adminKubeconfig, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
    return run(toolPath('helm'), [...args, '--namespace', namespace], { env, cwd: projectRoot }).then(
      ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
    );
  }

  async function servedCrd(): Promise<ServedCrd> {
    const got = await admin('get', 'crd', crdName, '-o', 'json');
    expect(got.ok, got.stderr).to.equal(true);
    return JSON.parse(got.stdout) as ServedCrd;
  }

  /** The chart, with its operator watching this suite's namespace only (the install runs a real operator pod). */
  const chartValues = ['--set', `watchNamespaces={${namespace}}`];

  before(async function () {
    cluster = await joinCluster(this);
    // The CRD as a cluster has it before this chart version: applied by kubectl (or by an older chart's crds/ folder).
    await installCrd(admin);
    await admin('create', 'namespace', namespace);
  });

  after(async () => {
    if (!cluster) return;
    await helm('uninstall', release, '--wait', '--timeout', '60s');
    // The next suites get the CRD of crds/ back, without this release's printer column.
    await installCrd(admin);
    await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('helm install refuses the CRD already there, naming it; helm upgrade --install --take-ownership adopts it', async () => {
    const refused = await helm('install', release, 'charts/cloudtap', ...chartValues);
    expect(refused.ok).to.equal(false);
    expect(refused.stderr).to.match(/CustomResourceDefinition "cloudtaps\.cloudtap\.io".*exists and cannot be imported/s);

    const adopted = await helm('upgrade', '--install', release, 'charts/cloudtap', '--take-ownership', ...chartValues);
    expect(adopted.ok, adopted.stderr).to.equal(true);
    const crd = await servedCrd();
    expect(crd.metadata.annotations).to.include({ 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace, 'helm.sh/resource-policy': 'keep' });
    expect(crd.metadata.labels).to.include({ 'app.kubernetes.io/managed-by': 'Helm' });
  });

  it('helm upgrade changes the CRD the apiserver serves (a new printer column), with --force-conflicts once after kubectl', async () => {
    const chart = join(cluster.plane.dir, 'chart-next');
    cpSync(join(projectRoot, 'charts', 'cloudtap'), chart, { recursive: true });
    const template = join(chart, crdTemplate);
    const column = '        - name: Upgraded\n          type: string\n          description: A column only the next chart version has.\n          jsonPath: .spec.source.provider\n';
    const text = readFileSync(template, 'utf8');
    expect(text).to.include('      additionalPrinterColumns:\n');
    writeFileSync(template, text.replace('      additionalPrinterColumns:\n', `      additionalPrinterColumns:\n${column}`));

    // Helm 4 applies server-side. kubectl (installCrd above: apply --server-side) still co-owns every field of
    // the adopted CRD, so the first upgrade that changes one stops at a conflict naming kubectl ...
    const conflict = await helm('upgrade', release, chart, ...chartValues);
    expect(conflict.ok).to.equal(false);
    expect(conflict.stderr).to.include('conflict with "kubectl": .spec.versions');
    // ... and --force-conflicts, once, lets Helm take those fields over.
    const upgraded = await helm('upgrade', release, chart, '--force-conflicts', ...chartValues);
    expect(upgraded.ok, upgraded.stderr).to.equal(true);
    const columns = (await servedCrd()).spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name);
    expect(columns).to.include('Upgraded');
    const file = join(cluster.plane.dir, 'helm-crds-tap.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'kept', namespace },
      spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }] },
    }));
    expect((await admin('create', '-f', file)).ok).to.equal(true);
    // Served, not only stored: kubectl prints the new column.
    const listed = await admin('get', 'cloudtaps', '-n', namespace);
    expect(listed.stdout.split('\n')[0]).to.include('UPGRADED');
    // Helm alone owns the versions now: the next upgrade (back to this chart) needs no force.
    const next = await helm('upgrade', release, 'charts/cloudtap', ...chartValues);
    expect(next.ok, next.stderr).to.equal(true);
    expect((await servedCrd()).spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name)).to.not.include('Upgraded');
  });

  it('helm uninstall keeps the CRD and the CloudTaps', async () => {
    const uninstalled = await helm('uninstall', release, '--wait', '--timeout', '60s');
    expect(uninstalled.ok, uninstalled.stderr).to.equal(true);
    expect(uninstalled.stdout).to.match(/kept due to the resource policy[\s\S]*cloudtaps\.cloudtap\.io/);
    expect((await servedCrd()).metadata.annotations).to.include({ 'helm.sh/resource-policy': 'keep' });
    expect((await admin('get', 'cloudtap', 'kept', '-n', namespace)).ok).to.equal(true);
  });
});
