/**
 * The real kubectl against the test API server (and the operator): what a
 * user types, and what they see. Validation stays on: kubectl finds the
 * `fieldValidation` parameter in the server's OpenAPI v3 and sends
 * `fieldValidation=Strict`, so the server judges unknown fields.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../support/paths.js';
import { toolPath } from '../cluster/tools.js';
import { startCluster, waitFor, writeShardReport, type Cluster } from '../operator/controller/harness.js';

const run = promisify(execFile);
// The kubectl bin/install-k8s-tools builds (v1.37), not whatever the machine has.
const kubectlPath = [toolPath('kubectl')].find((path) => existsSync(path));

describe('test/k8s with the real kubectl', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let folder: string;

  before(function () {
    if (!kubectlPath) {
      console.log('    kubectl not found: skipping the kubectl checks');
      this.skip();
    }
  });

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'cloudtap-kubectl-'));
    cluster = await startCluster(false);
    cluster.kubeConfigFile(join(folder, 'kubeconfig'));
  });
  afterEach(async () => {
    await cluster?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function kubectl(...args: string[]): Promise<string> {
    const { stdout } = await run(kubectlPath!, ['--kubeconfig', join(folder, 'kubeconfig'), '--cache-dir', join(folder, 'cache'), ...args], { cwd: projectRoot });
    return stdout;
  }
  async function kubectlFails(...args: string[]): Promise<string> {
    try {
      await kubectl(...args);
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
    throw new Error(`kubectl ${args.join(' ')} succeeded`);
  }

  it('applies the CRD and the examples, lists with the printer columns, scales, describes and deletes', async () => {
    expect(await kubectl('apply', '-f', 'crds/cloudtap.io_cloudtaps.yaml')).to.include('created');
    const applied = await kubectl('apply', '-f', 'examples/');
    for (const name of ['tap-s3', 'tap-gcs', 'tap-azure']) expect(applied).to.include(`cloudtap.cloudtap.io/${name} created`);
    cluster.operator();
    await waitFor('every CloudTap Ready', () =>
      cluster.server.resources.storage.list(cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default').every((tap) =>
        ((tap.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True'),
      ),
    );
    const listed = await kubectl('get', 'cloudtaps');
    const [header, ...rows] = listed.trim().split('\n');
    expect(header!.split(/\s+/)).to.deep.equal(['NAME', 'PROVIDER', 'BUCKET', 'TARGETS', 'SHARDS', 'READY', 'DEGRADED', 'LAG', 'AGE']);
    const s3Row = rows.find((row) => row.startsWith('tap-s3'))!.split(/\s+/);
    expect(s3Row.slice(0, 6)).to.deep.equal(['tap-s3', 's3', 'corp-gateway-taps', 'sensor', '4', 'True']);
    expect(await kubectl('get', 'ctap', 'tap-azure', '-o', 'jsonpath={.spec.source.account}')).to.equal('corptaps');
    expect(await kubectl('get', 'cloudtap', '-o', 'name')).to.include('cloudtap.cloudtap.io/tap-gcs');

    expect(await kubectl('scale', 'ctap', 'tap-s3', '--replicas=5')).to.include('scaled');
    await waitFor('5 shard Deployments', () =>
      cluster.server.resources.storage.list(cluster.type('apps', 'v1', 'deployments'), 'default').filter((deployment) => deployment.metadata && (deployment.metadata as { name: string }).name.startsWith('tap-s3-shard-')).length === 5,
    );

    const described = await kubectl('describe', 'ctap', 'tap-s3');
    expect(described).to.match(/Name:\s+tap-s3/);
    expect(described).to.include('Applied');

    const explained = await kubectl('explain', 'cloudtap.spec.targets.vni');
    expect(explained).to.include('KIND:       CloudTap').and.include('The virtual network identifier');
    expect(await kubectl('diff', '-f', 'examples/s3.yaml').catch((error: { stdout: string }) => error.stdout)).to.not.include('spec:');

    expect(await kubectl('delete', 'ctap', 'tap-gcs')).to.include('deleted');
    expect(await kubectl('get', 'ctap', '-o', 'name')).to.not.include('tap-gcs');
  });

  it('shows the stitchers\' lag in the Lag column and throughput and lag in describe', async () => {
    await kubectl('apply', '-f', 'crds/cloudtap.io_cloudtaps.yaml');
    await kubectl('apply', '-f', 'examples/s3.yaml');
    await kubectl('scale', 'ctap', 'tap-s3', '--replicas=2');
    cluster.operator();
    const cloudTaps = cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps');
    await waitFor('tap-s3 with 2 shards', () => (cluster.server.resources.storage.get(cloudTaps, 'default', 'tap-s3')?.status as { shards?: number } | undefined)?.shards === 2);
    writeShardReport(cluster, 'tap-s3', 0, { mbps: 420, lagMs: 17_200 });
    writeShardReport(cluster, 'tap-s3', 1, { mbps: 310, lagMs: 44_900 });
    await waitFor('throughput and lag in the status', () => (cluster.server.resources.storage.get(cloudTaps, 'default', 'tap-s3')?.status as { lagSeconds?: number }).lagSeconds);

    const listed = await kubectl('get', 'ctap', 'tap-s3');
    const [header, row] = listed.trim().split('\n');
    const lagColumn = header!.split(/\s+/).indexOf('LAG');
    expect(row!.split(/\s+/)[lagColumn]).to.equal('45');
    // Degraded is a condition the operator always sets once it reconciled: the column shows it.
    const degradedColumn = header!.split(/\s+/).indexOf('DEGRADED');
    expect(row!.split(/\s+/)[degradedColumn]).to.match(/^(True|False)$/);
    const described = await kubectl('describe', 'ctap', 'tap-s3');
    expect(described).to.match(/Lag Seconds:\s+45\n/);
    expect(described).to.match(/Throughput Mbps:\s+730\n/);
  });

  it('refuses unknown fields under strict validation, and warns otherwise', async () => {
    await kubectl('apply', '-f', 'crds/cloudtap.io_cloudtaps.yaml');
    const typo = join(folder, 'typo.yaml');
    writeFileSync(typo, 'apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: typo, namespace: default}\nspec:\n  source: {provider: gcs, bucket: b, bukket: c}\n  targets: [{name: t, type: pcapOverIp, host: h}]\n');
    expect(await kubectlFails('apply', '-f', typo)).to.include('unknown field "spec.source.bukket"');
    const { stderr } = await run(kubectlPath!, ['--kubeconfig', join(folder, 'kubeconfig'), '--cache-dir', join(folder, 'cache'), 'apply', '--validate=warn', '-f', typo]);
    expect(stderr).to.include('unknown field "spec.source.bukket"');
    expect(await kubectl('get', 'ctap', 'typo', '-o', 'jsonpath={.spec.source}')).to.not.include('bukket');
  });

  it('shows the schema errors that name the field', async () => {
    await kubectl('apply', '-f', 'crds/cloudtap.io_cloudtaps.yaml');
    const bad = join(folder, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: bad, namespace: default}\nspec:\n  source: {provider: s3, bucket: b}\n  targets: [{name: t, type: geneve, host: h}]\n');
    const message = await kubectlFails('apply', '-f', bad);
    expect(message).to.include('spec.targets[0]').and.include('vni is required');
  });
});
