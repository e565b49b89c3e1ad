/**
 * operator/main.js as a process on the project's Node: it finds the API
 * server through KUBECONFIG, leads, reconciles, serves its probes and
 * metrics, and on SIGTERM releases the Lease and exits 0.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledRoot, nodeBinary } from '../support/paths.js';
import { awsCredentials, cloudTap, secret, startCluster, waitFor, type Cluster } from './controller/harness.js';
import type { Json } from './support.js';

describe('operator/main.ts as a process', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let folder: string;

  beforeEach(async () => {
    cluster = await startCluster();
    folder = mkdtempSync(join(tmpdir(), 'cloudtap-operator-'));
  });
  afterEach(async () => {
    await cluster.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('reconciles, serves /healthz, /readyz and /metrics, and releases its Lease on SIGTERM', async () => {
    const kubeconfig = join(folder, 'kubeconfig');
    cluster.kubeConfigFile(kubeconfig);
    chmodSync(kubeconfig, 0o600);
    const { resources } = cluster.server;
    resources.create(cluster.type('', 'v1', 'secrets'), 'default', secret('tap-creds', awsCredentials));
    resources.create(cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default', cloudTap('tap'));
    const child = spawn(nodeBinary, [join(compiledRoot, 'operator', 'main.js')], {
      env: { ...process.env, KUBECONFIG: kubeconfig, METRICS_PORT: '0', POD_NAME: 'operator-0', POD_NAMESPACE: 'default', LEASE_DURATION: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const port = await waitFor('the probe port in the log', () => /"port":(\d+)/.exec(output)?.[1]);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const cloudTaps = cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps');
      await waitFor('Ready', () =>
        (((resources.storage.get(cloudTaps, 'default', 'tap')?.status as Json | undefined)?.conditions ?? []) as Json[]).some(
          (condition) => condition.type === 'Ready' && condition.status === 'True',
        ),
      );
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/cloudtap_operator_reconciles_total\{result="success"\} [1-9]/);
      expect(metrics).to.match(/cloudtap_operator_leader 1/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).to.equal(0);
    const lease = resources.storage.get(cluster.type('coordination.k8s.io', 'v1', 'leases'), 'default', 'cloudtap-operator');
    expect((lease?.spec as Json).holderIdentity).to.equal('');
  });
});
