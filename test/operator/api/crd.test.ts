/**
 * The CRD and the TypeScript types describe the same resource: every field
 * of each type is in the schema and the reverse, every field is documented
 * (kubectl explain), and the examples pass the schema's checks.
 */
import { expect } from 'chai';
import type { CloudTapSpec, CloudTapStatus, Selection, Sizing, StitcherOptions, StoreSource, Target } from '../../../operator/api/types.js';
import { applyDefaults, validate, type JsonSchema } from '../../k8s/schema.js';
import { crdSchema, loadCrd, loadExamples, readYamlDocuments, type Json } from '../support.js';
import { join } from 'node:path';
import { projectRoot } from '../../support/paths.js';

/** Objects with every field of each type set: the compiler checks none is missing. */
const source: Required<StoreSource> = { provider: 's3', bucket: 'b', account: 'a', prefix: '', region: 'r', endpoint: 'e', credentialsSecretRef: { name: 'n', key: 'k' } };
const target: Required<Target> = {
  name: 'n', type: 'vxlan', host: 'h', port: 1, vni: 1, mtu: 1500, rate: 1, variant: 'original', remap: { client: 'c', server: 's' },
  claimName: 'c', rotateSize: '1M', store: { provider: 's3', bucket: 'b' },
};
const selection: Required<Selection> = { users: [], ports: [], subnets: [] };
const sizing: Required<Sizing> = { expectedThroughputMbps: 1, shards: 1, resources: {} };
const stitcher: Required<StitcherOptions> = { image: 'i', imagePullPolicy: 'Always', pollInterval: '1s', keyWait: '1s', logLevel: 'info', securityContext: {}, nodeSelector: {}, podTemplate: {} };
const spec: Required<CloudTapSpec> = { source, keys: source, targets: [target], selection, sizing, stitcher };
const status: Required<CloudTapStatus> = { conditions: [], observedGeneration: 1, shards: 1, readyShards: 1, selector: '', throughputMbps: 1, lagSeconds: 1 };

const root = crdSchema();
const at = (...path: string[]): JsonSchema => path.reduce<JsonSchema>((schema, key) => (key === '[]' ? schema.items! : schema.properties![key]!), root);
const keysOf = (schema: JsonSchema) => Object.keys(schema.properties ?? {}).sort();

describe('crds/cloudtap.io_cloudtaps.yaml', () => {
  it('has exactly the fields of the TypeScript types', () => {
    const pairs: [string[], object][] = [
      [['spec'], spec],
      [['spec', 'source'], source],
      [['spec', 'keys'], source],
      [['spec', 'targets', '[]'], target],
      [['spec', 'selection'], selection],
      [['spec', 'sizing'], sizing],
      [['spec', 'stitcher'], stitcher],
      [['status'], status],
    ];
    for (const [path, example] of pairs) expect(keysOf(at(...path)), path.join('.')).to.deep.equal(Object.keys(example).sort());
  });

  it('documents every field, so kubectl explain does', () => {
    const undocumented: string[] = [];
    const walk = (schema: JsonSchema, path: string) => {
      if (!schema.description && path !== 'metadata' && !schema['x-kubernetes-int-or-string']) undocumented.push(path || '<root>');
      for (const [key, child] of Object.entries(schema.properties ?? {})) if (key !== 'metadata') walk(child, path ? `${path}.${key}` : key);
      // Scalar list items are documented by their list.
      if (schema.items?.type === 'object') walk(schema.items, `${path}[]`);
    };
    walk(root, '');
    expect(undocumented).to.deep.equal([]);
  });

  it('names the short name, category, printer columns and scale paths the issue asks for', () => {
    const crdSpec = loadCrd().spec as Json;
    expect((crdSpec.names as Json).shortNames).to.deep.equal(['ctap']);
    expect((crdSpec.names as Json).categories).to.deep.equal(['cloudtap']);
    const version = (crdSpec.versions as Json[])[0]!;
    expect((version.additionalPrinterColumns as Json[]).map((column) => column.name)).to.deep.equal(['Provider', 'Bucket', 'Targets', 'Shards', 'Ready', 'Degraded', 'Lag', 'Age']);
    expect((version.subresources as Json).scale).to.deep.equal({ specReplicasPath: '.spec.sizing.shards', statusReplicasPath: '.status.readyShards', labelSelectorPath: '.status.selector' });
  });

  it('admits every example, Secrets aside', () => {
    for (const file of ['s3.yaml', 'gcs.yaml', 'azure.yaml']) {
      const tap = readYamlDocuments(join(projectRoot, 'examples', file)).find((document) => document.kind === 'CloudTap')!;
      applyDefaults(tap, root);
      expect(validate(tap, root, undefined), file).to.deep.equal([]);
    }
    expect(loadExamples()).to.have.length(3);
  });

  it('checks each CEL rule both ways', () => {
    const base = (): Json => structuredClone(loadExamples().find((example) => example.file === 's3.yaml')!.cloudTap) as unknown as Json;
    const failing: [string, (tap: Json) => void, string][] = [
      ['a long name', (tap) => ((tap.metadata as Json).name = 'x'.repeat(41)), 'at most 40'],
      ['azure without account', (tap) => ((tap.spec as Json).source = { provider: 'azure', bucket: 'c' }), 'account is required'],
      ['gcs with account', (tap) => ((tap.spec as Json).source = { provider: 'gcs', bucket: 'c', account: 'acct' }), 'account is required'],
      ['region off s3', (tap) => ((tap.spec as Json).source = { provider: 'gcs', bucket: 'c', region: 'r' }), 'region is only'],
      ['vxlan without vni', (tap) => ((tap.spec as Json).targets = [{ name: 'a', type: 'vxlan', host: 'h' }]), 'vni is required'],
      ['geneve without host', (tap) => ((tap.spec as Json).targets = [{ name: 'a', type: 'geneve', vni: 1 }]), 'host is required'],
      ['pcapVolume without claim', (tap) => ((tap.spec as Json).targets = [{ name: 'a', type: 'pcapVolume' }]), 'claimName is required'],
      ['pcapBucket without store', (tap) => ((tap.spec as Json).targets = [{ name: 'a', type: 'pcapBucket' }]), 'store is required'],
      ['a name starting with a digit', (tap) => ((tap.metadata as Json).name = '1tap'), 'must start with a lower-case letter'],
      ['a CIDR past /32', (tap) => ((tap.spec as Json).selection = { subnets: ['10.0.0.0/33'] }), 'must be a CIDR'],
      ['a host with spaces', (tap) => ((tap.spec as Json).targets = [{ name: 'a', type: 'pcapOverIp', host: 'not a host!' }]), 'host must be an IP address or a DNS name'],
      ['a word for a quantity', (tap) => ((tap.spec as Json).sizing = { resources: { limits: { cpu: 'lots' } } }), 'must be a quantity'],
      ['a duration without unit', (tap) => ((tap.spec as Json).stitcher = { keyWait: '30' }), 'must be a duration'],
    ];
    expect(validate(base(), root, undefined)).to.deep.equal([]);
    for (const [what, change, message] of failing) {
      const tap = base();
      change(tap);
      const causes = validate(tap, root, undefined);
      expect(causes.map((cause) => cause.message).join('; '), what).to.include(message);
    }
    const old = base();
    const moved = base();
    ((moved.spec as Json).source as Json).bucket = 'elsewhere';
    expect(validate(moved, root, old).map((cause) => cause.message).join()).to.include('immutable');
    expect(validate(moved, root, undefined)).to.deep.equal([]);
  });
});
