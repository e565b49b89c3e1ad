/**
 * The Helm chart, judged by helm itself: lint, template, the values schema,
 * and the promises it makes (CRD templates identical to crds/, a pod as hardened as
 * the stitcher's, RBAC covering what the controller does). The install
 * itself runs against the real apiserver in test/cluster/operator-e2e.test.ts.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { restrictedContainer, restrictedPod } from '../../operator/specs/security.js';
import { projectRoot } from '../support/paths.js';
import { loadCrd, type Json } from './support.js';
import { toolPath } from '../cluster/tools.js';

const run = promisify(execFile);
// Helm built from helm.sh/helm/v4 by bin/install-k8s-tools; `helm install` is in test/cluster/operator-e2e.test.ts.
const helm = toolPath('helm');
const chart = join(projectRoot, 'charts', 'cloudtap');

async function template(...args: string[]): Promise<Json[]> {
  const { stdout } = await run(helm, ['template', 'ct', chart, '--namespace', 'ops', ...args]);
  return parseAllDocuments(stdout).map((document) => document.toJS() as Json).filter(Boolean);
}

describe('charts/cloudtap', function () {
  this.timeout(30_000);

  before(function () {
    if (!existsSync(helm)) this.skip();
  });

  it('passes helm lint', async () => {
    const { stdout } = await run(helm, ['lint', '--strict', chart]);
    expect(stdout).to.include('0 chart(s) failed');
  });

  it('renders the CRD from crds/ unchanged but for the keep policy and the release labels (make chart-crds after a change)', async () => {
    const source = loadCrd();
    const rendered = (await template()).filter((object) => object.kind === 'CustomResourceDefinition');
    expect(rendered, 'one CRD template per file in crds/').to.have.length(1);
    const crd = rendered[0]!;
    expect(crd.spec, 'spec of templates/crds/ against crds/').to.deep.equal(source.spec);
    const metadata = crd.metadata as { name: string; annotations?: Record<string, string>; labels: Record<string, string> };
    const sourceMetadata = source.metadata as { name: string; labels: Record<string, string> };
    expect(metadata.name).to.equal(sourceMetadata.name);
    expect(metadata.labels).to.include(sourceMetadata.labels);
    expect(metadata.annotations).to.deep.equal({ 'helm.sh/resource-policy': 'keep' });
  });

  it('leaves the CRD out, or lets helm uninstall delete it, when asked', async () => {
    const crdOf = async (...args: string[]) => (await template(...args)).find((object) => object.kind === 'CustomResourceDefinition');
    expect(await crdOf('--set', 'crds.enabled=false')).to.equal(undefined);
    expect((await crdOf('--set', 'crds.keep=false'))!.metadata).to.not.have.property('annotations');
  });

  it('has no crds/ folder, which helm would install once and never upgrade', () => {
    expect(existsSync(join(chart, 'crds'))).to.equal(false);
  });

  it('runs the operator as hardened as the stitcher pods', async () => {
    const deployment = (await template()).find((object) => object.kind === 'Deployment')!;
    const pod = (deployment.spec as Json).template as Json;
    const podSpec = pod.spec as Json;
    expect(podSpec.securityContext).to.deep.equal(restrictedPod);
    const container = (podSpec.containers as Json[])[0]!;
    expect(container.securityContext).to.deep.equal(restrictedContainer);
    expect(container.command).to.deep.equal(['node', '/app/dist/operator/main.js']);
  });

  it('tells the operator its stitcher image, and allows no image override unless asked', async () => {
    const envOf = async (...args: string[]) => {
      const deployment = (await template(...args)).find((object) => object.kind === 'Deployment')!;
      const container = ((((deployment.spec as Json).template as Json).spec as Json).containers as Json[])[0]!;
      return Object.fromEntries((container.env as { name: string; value?: string }[]).map((entry) => [entry.name, entry.value]));
    };
    const appVersion = /appVersion: "?([^"\n]+)/.exec(readFileSync(join(chart, 'Chart.yaml'), 'utf8'))![1];
    const plain = await envOf();
    expect(plain.STITCHER_IMAGE).to.equal(`ghcr.io/cloudtap/cloudtap:${appVersion}`);
    expect(plain.ALLOW_IMAGE_OVERRIDE).to.equal('false');
    const custom = await envOf('--set', 'image.tag=1.2.3', '--set', 'stitcher.image.repository=registry.example/stitcher', '--set', 'stitcher.allowImageOverride=true');
    expect(custom.STITCHER_IMAGE).to.equal('registry.example/stitcher:1.2.3');
    expect(custom.ALLOW_IMAGE_OVERRIDE).to.equal('true');
  });

  it('grants the verbs the controller uses on each kind it writes, cluster-wide by default', async () => {
    const objects = await template();
    const role = objects.find((object) => object.kind === 'ClusterRole')!;
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const allowed = (group: string, resource: string, verb: string) =>
      rules.some((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb));
    for (const [group, resource] of [['apps', 'deployments'], ['', 'configmaps'], ['', 'services'], ['', 'serviceaccounts'], ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'rolebindings']] as const) {
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'delete']) expect(allowed(group, resource, verb), `${verb} ${resource}`).to.equal(true);
    }
    expect(allowed('cloudtap.io', 'cloudtaps/status', 'patch'), 'patch cloudtaps/status').to.equal(true);
    // The shard count it applies while it sizes a CloudTap itself; it never replaces or deletes one.
    expect(allowed('cloudtap.io', 'cloudtaps', 'patch'), 'patch cloudtaps').to.equal(true);
    for (const verb of ['update', 'delete', 'create']) expect(allowed('cloudtap.io', 'cloudtaps', verb), `${verb} cloudtaps`).to.equal(false);
    expect(allowed('cloudtap.io', 'cloudtaps/finalizers', 'update'), 'update cloudtaps/finalizers').to.equal(true);
    // Secrets: get by name only, never listed, watched or written.
    expect(allowed('', 'secrets', 'get'), 'get secrets').to.equal(true);
    for (const verb of ['list', 'watch', 'update', 'create']) expect(allowed('', 'secrets', verb), `${verb} secrets`).to.equal(false);
    expect(allowed('coordination.k8s.io', 'leases', 'update'), 'update leases').to.equal(true);
  });

  it('narrows RBAC to one namespace when asked', async () => {
    const objects = await template('--set', 'watchNamespace=taps');
    expect(objects.filter((object) => object.kind === 'ClusterRole')).to.have.length(0);
    const role = objects.find((object) => object.kind === 'Role' && (object.metadata as Json).namespace === 'taps');
    expect(role).to.not.equal(undefined);
  });

  it('grants a Role in each of a list of namespaces, nothing cluster-wide, and tells the operator the list', async () => {
    const objects = await template('--set', 'watchNamespaces={team-a,team-b}');
    expect(objects.filter((object) => object.kind === 'ClusterRole' || object.kind === 'ClusterRoleBinding')).to.have.length(0);
    const scoped = (kind: string) => objects.filter((object) => object.kind === kind && (object.metadata as Json).name === 'ct-cloudtap').map((object) => (object.metadata as Json).namespace);
    expect(scoped('Role')).to.have.members(['team-a', 'team-b']);
    expect(scoped('RoleBinding')).to.have.members(['team-a', 'team-b']);
    const deployment = objects.find((object) => object.kind === 'Deployment')!;
    const env = (((((deployment.spec as Json).template as Json).spec as Json).containers as Json[])[0]!.env as { name: string; value?: string }[]);
    expect(env.find((entry) => entry.name === 'WATCH_NAMESPACE')?.value).to.equal('team-a,team-b');
  });

  it('refuses values its schema does not allow', async () => {
    const failure = await run(helm, ['template', 'ct', chart, '--set', 'replicaCount=0']).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(failure).to.include('replicaCount');
    const typo = await run(helm, ['template', 'ct', chart, '--set', 'logLevl=debug']).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(typo).to.include('logLevl');
  });
});
