/**
 * The control plane the cluster tests run on is a real one: authorizers,
 * admission and controllers as a cluster has them. Each check is also a
 * behaviour where the in-repo test API server (test/k8s/) differed, so the
 * real one is the reference (docs/operator.md lists the differences).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../support/paths.js';
import { joinCluster, type Cluster } from './shared.js';
import { toolPath } from './tools.js';

const run = promisify(execFile);

describe('cluster: the real control plane', function () {
  this.timeout(120_000);
  let cluster: Cluster;

  before(async function () {
    cluster = await joinCluster(this);
  });

  async function kubectl(kubeconfig: string, ...args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(cluster.plane.dir, 'kube-cache'), ...args], { cwd: projectRoot })
      .then(({ stdout, stderr }) => ({ ok: true, stdout, stderr }), (error: { stdout: string; stderr: string }) => ({ ok: false, stdout: error.stdout, stderr: error.stderr }));
  }
  const admin = (...args: string[]) => kubectl(cluster.plane.adminKubeconfig, ...args);

  it('serves the OpenAPI v2 and v3 documents that helm and kubectl read', async () => {
    expect((await cluster.plane.request('GET', '/openapi/v2')).status).to.equal(200);
    expect((await cluster.plane.request('GET', '/openapi/v3')).status).to.equal(200);
  });

  it('takes kubectl create namespace (sent as protobuf)', async () => {
    const created = await admin('create', 'namespace', 'proto-check');
    expect(created.stderr).to.equal('');
    expect(created.stdout).to.include('namespace/proto-check created');
    await admin('delete', 'namespace', 'proto-check', '--wait=false');
  });

  it('sends a watch\'s response headers before any event', async () => {
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const pki = cluster.plane.pki;
      const watcher = pki.client('watcher', 'watcher', 'system:masters');
      const req = request(`${cluster.plane.server}/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dnobody`, {
        ca: readFileSync(pki.ca.cert), cert: readFileSync(watcher.cert), key: readFileSync(watcher.key),
      }, (response) => {
        resolve(response.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      req.end();
    });
    expect(status).to.equal(200);
    expect(Date.now() - started, 'headers with no event to send').to.be.lessThan(3000);
  });

  it('the Node authorizer: a node reads no Secret that none of its pods uses', async () => {
    await admin('create', 'secret', 'generic', 'not-for-nodes', '-n', 'default', '--from-literal=k=v');
    const node = cluster.plane.kubeconfigFor('node-check', cluster.plane.pki.client('node-check', `system:node:${cluster.node.name}`, 'system:nodes'));
    const read = await kubectl(node, 'get', 'secret', '-n', 'default', 'not-for-nodes');
    expect(read.ok, read.stdout).to.equal(false);
    expect(read.stderr).to.include('Forbidden');
    await admin('delete', 'secret', '-n', 'default', 'not-for-nodes');
  });

  it('RBAC: an impersonated ServiceAccount with no Role is refused', async () => {
    const listed = await kubectl(cluster.plane.kubeconfigAs('default', 'default'), 'get', 'secrets', '-n', 'default');
    expect(listed.ok, listed.stdout).to.equal(false);
    expect(listed.stderr).to.include('Forbidden').and.include('system:serviceaccount:default:default');
  });

  it('the CRD is structural, and a printer column of an array shows only its first element', async () => {
    const applied = await admin('apply', '--server-side', '-f', 'crds/cloudtap.io_cloudtaps.yaml');
    expect(applied.ok, applied.stderr).to.equal(true);
    await admin('wait', '--for=condition=Established', 'crd/cloudtaps.cloudtap.io', '--timeout=30s');
    await admin('create', 'namespace', 'columns');
    const file = join(cluster.plane.dir, 'two-targets.yaml');
    writeFileSync(file, 'apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: two, namespace: columns}\nspec:\n  source: {provider: gcs, bucket: b}\n  targets: [{name: first, type: pcapOverIp, host: a.example}, {name: second, type: pcapOverIp, host: b.example}]\n');
    // created with the operator not yet installed, and deleted at once: nothing reconciles it
    const created = await admin('create', '-f', file);
    expect(created.ok, created.stderr).to.equal(true);
    const [header, row] = (await admin('get', 'cloudtaps', '-n', 'columns')).stdout.trim().split('\n');
    const targets = row!.split(/\s+/)[header!.split(/\s+/).indexOf('TARGETS')];
    expect(targets).to.equal('first');
    await admin('delete', 'namespace', 'columns', '--wait=false');
  });

  it('refuses unknown fields under kubectl\'s strict validation, naming the field', async () => {
    const file = join(cluster.plane.dir, 'typo.yaml');
    writeFileSync(file, 'apiVersion: cloudtap.io/v1alpha1\nkind: CloudTap\nmetadata: {name: typo, namespace: default}\nspec:\n  source: {provider: gcs, bucket: b, bukket: c}\n  targets: [{name: t, type: pcapOverIp, host: h}]\n');
    const applied = await admin('apply', '--dry-run=server', '-f', file);
    expect(applied.ok, applied.stdout).to.equal(false);
    expect(applied.stderr).to.include('unknown field "spec.source.bukket"');
  });
});
