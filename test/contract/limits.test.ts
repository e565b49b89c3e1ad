/** The shard limits agree with each other, with the CRD and with both sides' checks. */
import { expect } from 'chai';
import { MAX_CHECKPOINT_SHARDS, MAX_SHARD_COUNT, MAX_SHARDS } from '../../contract/limits.js';
import { validateSpec } from '../../operator/api/validate.js';
import { resolveStitchConfig } from '../../stitcher/cli/stitch-config.js';
import { cloudTapWith, loadCrd, type Json } from '../operator/support.js';

describe('contract: shard limits', () => {
  it('are ordered: what the operator runs <= what a re-shard reads <= what the CLI takes', () => {
    expect(MAX_SHARDS).to.be.at.most(MAX_CHECKPOINT_SHARDS);
    expect(MAX_CHECKPOINT_SHARDS).to.be.at.most(MAX_SHARD_COUNT);
  });

  it('the CRD caps spec.sizing.shards at MAX_SHARDS', () => {
    const versions = (loadCrd().spec as Json).versions as Json[];
    const schema = (versions[0]!.schema as Json).openAPIV3Schema as Json;
    const sizing = ((((schema.properties as Json).spec as Json).properties as Json).sizing as Json).properties as Json;
    expect((sizing.shards as Json).maximum).to.equal(MAX_SHARDS);
  });

  it('the operator refuses one shard more than MAX_SHARDS, the stitcher one more than MAX_SHARD_COUNT', () => {
    expect(validateSpec(cloudTapWith({ sizing: { shards: MAX_SHARDS } }).spec)).to.deep.equal([]);
    expect(validateSpec(cloudTapWith({ sizing: { shards: MAX_SHARDS + 1 } }).spec)).to.deep.equal([{ field: 'spec.sizing.shards', message: `must be an integer from 1 to ${MAX_SHARDS}` }]);
    const flags = { source: 'file:///x', output: ['pcap:///x.pcap'] };
    expect(resolveStitchConfig(flags, { SHARD_INDEX: '0', SHARD_COUNT: String(MAX_SHARD_COUNT) }).shard.count).to.equal(MAX_SHARD_COUNT);
    expect(() => resolveStitchConfig(flags, { SHARD_INDEX: '0', SHARD_COUNT: String(MAX_SHARD_COUNT + 1) })).to.throw('--shard-count');
  });
});
