/**
 * The stitcher image on the real control plane: the CRD stores none in a
 * CloudTap (so a chart upgrade moves every stitcher), the operator's image is
 * the one the Deployments run, and a CloudTap naming another image is not
 * reconciled unless the operator allows overrides.
 */
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Operator } from '../../operator/controller/controller.js';
import type { ImagePolicy } from '../../operator/specs/image.js';
import { joinWithNamespace, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

type Json = Record<string, unknown>;
const namespace = 'images';

describe('cluster: the stitcher image comes from the operator', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  const operators: Operator[] = [];
  const admin = (...args: string[]) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);

  before(async function () {
    cluster = await joinWithNamespace(this, namespace);
  });

  after(async () => {
    await Promise.all(operators.map((operator) => operator.stop()));
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  function startOperator(images: ImagePolicy): Operator {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.plane.adminKubeconfig);
    const operator = new Operator({ kubeConfig, namespace, resyncMs: 60_000, queue: { baseDelayMs: 200 }, images });
    operators.push(operator);
    operator.start();
    return operator;
  }

  async function getJson(...args: string[]): Promise<Json | undefined> {
    const got = await admin('get', ...args, '-n', namespace, '-o', 'json');
    return got.ok ? (JSON.parse(got.stdout) as Json) : undefined;
  }

  async function poll<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    for (let tries = 0; tries < 150; tries++) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const tap = (name: string, stitcher: Json = {}) => ({
    apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name, namespace },
    spec: { source: { provider: 'gcs', bucket: 'taps' }, targets: [{ name: 'sensor', type: 'pcapOverIp', host: 'zeek.example' }], stitcher },
  });

  it('stores no image in the CloudTap, runs the operator\'s, and refuses an override the operator does not allow', async () => {
    const file = join(cluster.plane.dir, 'images.yaml');
    writeFileSync(file, [tap('plain'), tap('custom', { image: 'attacker.example/miner:latest' })].map((object) => stringify(object)).join('---\n'));
    const created = await admin('create', '-f', file);
    expect(created.ok, created.stderr).to.equal(true);
    const stored = await getJson('cloudtap', 'plain');
    expect(((stored!.spec as Json).stitcher as Json).image, 'no image defaulted into the CloudTap').to.equal(undefined);

    const operator = startOperator({ defaultImage: 'registry.example/cloudtap:9.9.9', allowOverride: false });
    const deployment = await poll('the shard Deployment', () => getJson('deployment', 'plain-shard-0'));
    const containers = ((((deployment.spec as Json).template as Json).spec as Json).containers as Json[]);
    expect(containers[0]!.image).to.equal('registry.example/cloudtap:9.9.9');

    const refused = await poll('Reconciled=False on custom', async () => {
      const conditions = (((await getJson('cloudtap', 'custom'))?.status as Json | undefined)?.conditions as Json[] | undefined) ?? [];
      return conditions.find((condition) => condition.type === 'Reconciled' && condition.status === 'False');
    });
    expect(refused.reason).to.equal('ImageOverrideNotAllowed');
    expect(String(refused.message)).to.include('remove spec.stitcher.image').and.include('stitcher.allowImageOverride');
    expect(await getJson('deployment', 'custom-shard-0'), 'no Deployment runs the refused image').to.equal(undefined);

    // The next operator (a chart upgrade) moves the existing stitcher, and may allow overrides.
    await operator.stop();
    startOperator({ defaultImage: 'registry.example/cloudtap:10.0.0', allowOverride: true });
    await poll('the upgraded image', async () => {
      const moved = await getJson('deployment', 'plain-shard-0');
      const image = ((((moved?.spec as Json).template as Json).spec as Json).containers as Json[])[0]!.image;
      return image === 'registry.example/cloudtap:10.0.0' ? image : undefined;
    });
    const custom = await poll('the allowed override', () => getJson('deployment', 'custom-shard-0'));
    expect(((((custom.spec as Json).template as Json).spec as Json).containers as Json[])[0]!.image).to.equal('attacker.example/miner:latest');
  });
});
