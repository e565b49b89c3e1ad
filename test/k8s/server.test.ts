/**
 * The test API server answers as kube-apiserver does: these are the rules a
 * client (and the operator's tests) rely on, checked over HTTP.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../support/paths.js';
import { startTestApiServer, type TestApiServer } from './server.js';

type Json = Record<string, unknown>;

const crd = parse(readFileSync(join(projectRoot, 'crds', 'cloudtap.io_cloudtaps.yaml'), 'utf8')) as Json;
const base = '/apis/cloudtap.io/v1alpha1/namespaces/default/cloudtaps';
const tap = (name: string, spec: Json = {}): Json => ({
  apiVersion: 'cloudtap.io/v1alpha1',
  kind: 'CloudTap',
  metadata: { name },
  spec: { source: { provider: 'gcs', bucket: 'b' }, targets: [{ name: 't', type: 'pcapOverIp', host: 'h' }], ...spec },
});

describe('test/k8s server', () => {
  let server: TestApiServer;
  async function call(method: string, path: string, body?: unknown, contentType = 'application/json', accept = 'application/json') {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'Content-Type': contentType, Accept: accept },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  beforeEach(async () => {
    server = await startTestApiServer();
    expect((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).to.equal(201);
  });
  afterEach(() => server.close());

  it('serves discovery for the CRD with short names, categories and subresources', async () => {
    const version = await call('GET', '/version');
    expect(version.body.gitVersion).to.match(/^v1\.3\d\./);
    const groups = (await call('GET', '/apis')).body.groups as Json[];
    expect(groups.map((group) => group.name)).to.include.members(['apps', 'cloudtap.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io']);
    const resources = (await call('GET', '/apis/cloudtap.io/v1alpha1')).body.resources as Json[];
    expect(resources.map((resource) => resource.name)).to.deep.equal(['cloudtaps', 'cloudtaps/status', 'cloudtaps/scale']);
    expect(resources[0]).to.include({ kind: 'CloudTap', namespaced: true });
    expect(resources[0]!.shortNames).to.deep.equal(['ctap']);
    expect(resources[0]!.categories).to.deep.equal(['cloudtap']);
  });

  it('prunes unknown fields, applies defaults and names invalid fields in a 422', async () => {
    const created = await call('POST', base, { ...tap('a'), spec: { ...(tap('a').spec as Json), unknownField: 1 } });
    expect(created.status).to.equal(201);
    const spec = created.body.spec as Json;
    expect(spec).to.not.have.property('unknownField');
    expect((spec.stitcher as Json).pollInterval).to.equal('10s');
    expect(((spec.targets as Json[])[0]!).mtu).to.equal(1500);
    const invalid = await call('POST', base, tap('b', { source: { provider: 'azure', bucket: 'c' }, sizing: { shards: 0 } }));
    expect(invalid.status).to.equal(422);
    expect(invalid.body.reason).to.equal('Invalid');
    const fields = ((invalid.body.details as Json).causes as Json[]).map((cause) => cause.field);
    expect(fields).to.have.members(['spec.source', 'spec.sizing.shards']);
    expect(String(invalid.body.message)).to.include('account is required for provider azure');
  });

  it('enforces transition rules only on updates', async () => {
    const created = await call('POST', base, tap('a'));
    const changed = { ...created.body, spec: { ...(created.body.spec as Json), source: { provider: 'gcs', bucket: 'other' } } };
    const rejected = await call('PUT', `${base}/a`, changed);
    expect(rejected.status).to.equal(422);
    expect(String(rejected.body.message)).to.include('immutable');
  });

  it('answers 409 to a stale resourceVersion and bumps generation only for spec changes', async () => {
    const created = (await call('POST', base, tap('a'))).body;
    const metadata = created.metadata as Json;
    expect(metadata.generation).to.equal(1);
    const labelled = await call('PUT', `${base}/a`, { ...created, metadata: { ...metadata, labels: { x: 'y' } } });
    expect((labelled.body.metadata as Json).generation).to.equal(1);
    const stale = await call('PUT', `${base}/a`, { ...created, spec: { ...(created.spec as Json), sizing: { shards: 2 } } });
    expect(stale.status).to.equal(409);
    expect(stale.body.reason).to.equal('Conflict');
    const patched = await call('PATCH', `${base}/a`, { spec: { sizing: { shards: 2 } } }, 'application/merge-patch+json');
    expect((patched.body.metadata as Json).generation).to.equal(2);
    const status = await call('PATCH', `${base}/a/status`, { status: { shards: 2 }, spec: { sizing: { shards: 9 } } }, 'application/merge-patch+json');
    expect((status.body.metadata as Json).generation).to.equal(2);
    expect(((status.body.spec as Json).sizing as Json).shards).to.equal(2);
    const mainWrite = await call('PATCH', `${base}/a`, { status: { shards: 7 } }, 'application/merge-patch+json');
    expect((mainWrite.body.status as Json).shards).to.equal(2);
  });

  it('serves the scale subresource from the CRD paths', async () => {
    await call('POST', base, tap('a'));
    await call('PATCH', `${base}/a/status`, { status: { shards: 2, readyShards: 1, selector: 'app=x' } }, 'application/merge-patch+json');
    const scale = await call('GET', `${base}/a/scale`);
    expect(scale.body).to.deep.include({ kind: 'Scale', apiVersion: 'autoscaling/v1' });
    // status.replicas is readyShards (shards that run), not shards
    expect(scale.body.status).to.deep.equal({ replicas: 1, selector: 'app=x' });
    await call('PATCH', `${base}/a/scale`, { spec: { replicas: 4 } }, 'application/merge-patch+json');
    expect((((await call('GET', `${base}/a`)).body.spec as Json).sizing as Json).shards).to.equal(4);
  });

  it('supports JSON patch, and refuses strategic merge for custom resources', async () => {
    await call('POST', base, tap('a'));
    const patched = await call('PATCH', `${base}/a`, [{ op: 'replace', path: '/spec/source/prefix', value: 'p/' }], 'application/json-patch+json');
    expect(((patched.body.spec as Json).source as Json).prefix).to.equal('p/');
    const strategic = await call('PATCH', `${base}/a`, { spec: {} }, 'application/strategic-merge-patch+json');
    expect(strategic.status).to.equal(415);
  });

  it('builds Tables from the printer columns', async () => {
    await call('POST', base, tap('a'));
    const table = await call('GET', base, undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(table.body.kind).to.equal('Table');
    expect((table.body.columnDefinitions as Json[]).map((column) => column.name)).to.deep.equal(['Name', 'Provider', 'Bucket', 'Targets', 'Shards', 'Ready', 'Degraded', 'Lag', 'Age']);
    expect(((table.body.rows as Json[])[0]!.cells as unknown[]).slice(0, 4)).to.deep.equal(['a', 'gcs', 'b', 't']);
  });

  it('holds deletion while finalizers remain, then deletes', async () => {
    await call('POST', base, { ...tap('a'), metadata: { name: 'a', finalizers: ['example.com/hold'] } });
    const held = await call('DELETE', `${base}/a`);
    expect((held.body.metadata as Json).deletionTimestamp).to.be.a('string');
    expect((await call('GET', `${base}/a`)).status).to.equal(200);
    await call('PATCH', `${base}/a`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    expect((await call('GET', `${base}/a`)).status).to.equal(404);
  });

  it('collects dependents of a deleted owner in the background', async () => {
    const owner = (await call('POST', base, tap('a'))).body.metadata as Json;
    const ownerReferences = [{ apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', name: 'a', uid: owner.uid, controller: true }];
    await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'child', ownerReferences } });
    await call('DELETE', `${base}/a`, { propagationPolicy: 'Background' });
    for (let attempt = 0; attempt < 100 && (await call('GET', '/api/v1/namespaces/default/configmaps/child')).status !== 404; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/child')).status).to.equal(404);
  });

  it('watches from a resourceVersion in order, and answers 410 Gone for a compacted one', async () => {
    const list = await call('GET', base);
    const since = (list.body.metadata as Json).resourceVersion as string;
    await call('POST', base, tap('a'));
    await call('PATCH', `${base}/a`, { spec: { sizing: { shards: 2 } } }, 'application/merge-patch+json');
    const controller = new AbortController();
    const response = await fetch(`${server.url}${base}?watch=true&resourceVersion=${since}`, { signal: controller.signal });
    const reader = response.body!.getReader();
    let text = '';
    while (text.split('\n').length < 3) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const events = text.trim().split('\n').map((line) => JSON.parse(line) as Json);
    expect(events.map((event) => event.type)).to.deep.equal(['ADDED', 'MODIFIED']);
    const versions = events.map((event) => Number(((event.object as Json).metadata as Json).resourceVersion));
    expect(versions[1]).to.be.greaterThan(versions[0]!);
    server.resources.storage.compact();
    const gone = await (await fetch(`${server.url}${base}?watch=true&resourceVersion=${since}`)).text();
    const error = JSON.parse(gone.trim()) as Json;
    expect(error.type).to.equal('ERROR');
    expect((error.object as Json).code).to.equal(410);
  });

  it('refuses Lease times without six fractional digits (MicroTime), as kube-apiserver does', async () => {
    const lease = (renewTime: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: `l${renewTime.length}` },
      spec: { holderIdentity: 'a', renewTime },
    });
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    expect((await call('POST', path, lease('2026-01-01T00:00:00.123Z'))).status).to.equal(400);
    expect((await call('POST', path, lease('2026-01-01T00:00:00.123000Z'))).status).to.equal(201);
  });

  it('checks Deployments: selector matching the pod labels, and immutable', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const deployment = (labels: Record<string, string>) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const mismatched = await call('POST', path, deployment({ app: 'b' }));
    expect(mismatched.status).to.equal(422);
    expect((((mismatched.body.details as Json).causes as Json[])[0]!).field).to.equal('spec.template.metadata.labels');
    expect((await call('POST', path, deployment({ app: 'a' }))).status).to.equal(201);
    const moved = await call('PATCH', `${path}/d`, { spec: { selector: { matchLabels: { app: 'a', x: 'y' } }, template: { metadata: { labels: { app: 'a', x: 'y' } } } } }, 'application/strategic-merge-patch+json');
    expect(moved.status).to.equal(422);
    expect(String(moved.body.message)).to.include('field is immutable');
  });

  it('refuses a CRD whose CEL rules it cannot check', async () => {
    const unknownRule = structuredClone(crd);
    const schema = ((unknownRule.spec as Json).versions as Json[])[0]!.schema as Json;
    (schema.openAPIV3Schema as Json)['x-kubernetes-validations'] = [{ rule: 'self.spec.size() > 1' }];
    (unknownRule.metadata as Json).name = 'cloudtaps.cloudtap.io';
    await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cloudtaps.cloudtap.io');
    const refused = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', unknownRule);
    expect(refused.status).to.equal(422);
    expect(String(refused.body.message)).to.include('self.spec.size() > 1');
  });
});
