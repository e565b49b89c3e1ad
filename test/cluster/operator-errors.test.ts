/**
 * The operator on the real control plane: a child write the apiserver
 * refuses (here a ResourceQuota, enforced by the real quota admission) is a
 * Reconciled=False condition and a Warning event naming the object and the
 * apiserver's reason, not only a line in the operator's log.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Operator } from '../../operator/controller/controller.js';
import { joinWithNamespace, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

type Json = Record<string, unknown>;
const namespace = 'write-failures';

describe('cluster: a child write the apiserver refuses', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let operator: Operator | undefined;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
  });

  after(async () => {
    await operator?.stop();
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  it('becomes a Reconciled=False condition and a Warning event that name the object and the reason', async () => {
    const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-deployments', namespace }, spec: { hard: { 'count/deployments.apps': '0' } } };
    const tap = {
      apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'quota', namespace },
      spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }] },
    };
    const file = join(cluster.plane.dir, 'write-failures.yaml');
    writeFileSync(file, [quota, tap].map((object) => stringify(object)).join('---\n'));
    const created = await admin('create', '-f', file);
    expect(created.ok, created.stderr).to.equal(true);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
    operator = new Operator({ kubeConfig, namespace, resyncMs: 60_000, queue: { baseDelayMs: 200 } });
    operator.start();

    let condition: Json | undefined;
    for (let tries = 0; tries < 100 && !condition; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const got = await admin('get', 'cloudtap', 'quota', '-n', namespace, '-o', 'json');
      const conditions = ((JSON.parse(got.stdout || '{}') as { status?: { conditions?: Json[] } }).status?.conditions ?? []);
      condition = conditions.find((item) => item.type === 'Reconciled' && item.reason === 'ChildWriteFailed');
    }
    expect(condition, 'a Reconciled condition with reason ChildWriteFailed').to.not.equal(undefined);
    expect(condition!.status).to.equal('False');
    expect(String(condition!.message), String(condition!.message)).to.match(/could not write Deployment write-failures\/quota-shard-0: HTTP 403: .*exceeded quota: no-deployments/);

    const events = JSON.parse((await admin('get', 'events', '-n', namespace, '--field-selector', 'reason=ChildWriteFailed', '-o', 'json')).stdout) as { items: Json[] };
    expect(events.items.map((event) => String(event.message))).to.satisfy((messages: string[]) => messages.some((message) => message.includes('exceeded quota: no-deployments')));
    const described = await admin('describe', 'cloudtap', 'quota', '-n', namespace);
    expect(described.stdout).to.include('ChildWriteFailed');
  });
});
