/**
 * Pod customisation on the real control plane: the CRD refuses podTemplate
 * entries that would take over the operator's labels or variables, and the
 * Deployment the operator builds from an accepted one is admitted by the
 * apiserver (affinity and topology spread judged by its own validation), its
 * ReplicaSet's pod carrying the tolerations, priority class and CA bundle.
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
const namespace = 'customised';

describe('cluster: stitcher pods customised through podTemplate', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let operator: Operator | undefined;
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
  });

  after(async () => {
    await operator?.stop();
    if (cluster) {
      await admin('delete', 'namespace', namespace, '--wait=false');
      await admin('delete', 'priorityclass', 'ndr-high', '--wait=false');
    }
  });

  const tap = (name: string, podTemplate: Json): Json => ({
    apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name, namespace },
    spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }], stitcher: { podTemplate } },
  });

  async function create(objects: Json[], ...flags: string[]) {
    const file = join(cluster.plane.dir, `pod-template-${Date.now()}.yaml`);
    writeFileSync(file, objects.map((object) => stringify(object)).join('---\n'));
    return admin('create', ...flags, '-f', file);
  }

  it('refuses labels with the operator\'s prefixes and the operator\'s variables', async () => {
    const labels = await create([tap('labels', { labels: { 'app.kubernetes.io/instance': 'other' } })], '--dry-run=server');
    expect(labels.stderr).to.include('podTemplate.labels must not use the app.kubernetes.io/ or cloudtap.io/ prefixes');
    const env = await create([tap('env', { env: [{ name: 'SHARD_INDEX', value: '3' }] })], '--dry-run=server');
    expect(env.stderr).to.include('podTemplate.env must not set SHARD_INDEX');
    const security = await create([tap('security', { securityContext: { privileged: true } })], '--dry-run=server');
    expect(security.stderr).to.include('unknown field "spec.stitcher.podTemplate.securityContext"');
  });

  it('builds a Deployment the apiserver admits, whose pod carries the customisation', async () => {
    const priorityClass = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'ndr-high' }, value: 100000 };
    const customised = tap('custom', {
      labels: { team: 'soc' },
      annotations: { 'azure.workload.identity/use': 'true' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ndr', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'ndr', operator: 'In', values: ['ndr-nodes'] }] } }] } },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { team: 'soc' } } }],
      priorityClassName: 'ndr-high',
      imagePullSecrets: [{ name: 'registry' }],
      env: [{ name: 'HTTPS_PROXY', value: 'http://proxy.example:3128' }],
      caBundle: { configMapName: 'corp-ca' },
    });
    const created = await create([priorityClass, customised]);
    expect(created.ok, created.stderr).to.equal(true);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
    operator = new Operator({ kubeConfig, namespace, resyncMs: 60_000, queue: { baseDelayMs: 200 } });
    operator.start();
    let pod: Json | undefined;
    for (let tries = 0; tries < 150 && !pod; tries++) {
      const pods = JSON.parse((await admin('get', 'pods', '-n', namespace, '-l', 'team=soc', '-o', 'json')).stdout || '{"items":[]}') as { items: Json[] };
      pod = pods.items[0];
      if (!pod) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!pod) {
      const events = (await admin('get', 'events', '-n', namespace, '-o', 'custom-columns=REASON:.reason,MESSAGE:.message')).stdout;
      expect.fail(`no pod made by the real ReplicaSet controller from the operator's Deployment; events:\n${events}`);
    }
    const spec = pod!.spec as Json;
    expect(spec.priorityClassName).to.equal('ndr-high');
    expect(spec.priority).to.equal(100000);
    expect((spec.tolerations as Json[]).map((toleration) => toleration.key)).to.include('dedicated');
    expect((spec.topologySpreadConstraints as Json[])[0]!.topologyKey).to.equal('kubernetes.io/hostname');
    expect(((pod!.metadata as Json).annotations as Json)['azure.workload.identity/use']).to.equal('true');
    const container = (spec.containers as Json[])[0]!;
    const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((entry) => [entry.name, entry.value]));
    expect(env.HTTPS_PROXY).to.equal('http://proxy.example:3128');
    expect(env.NODE_EXTRA_CA_CERTS).to.equal('/etc/cloudtap/ca/ca.crt');
    expect(container.securityContext as Json).to.include({ privileged: false });
  });
});
