import { expect } from 'chai';
import type { CloudTap, ManagedFieldsEntry } from '../../../operator/api/types.js';
import { shardCountIsAutomatic, sizedByOperator } from '../../../operator/controller/shard-count.js';
import { sizeFor } from '../../../operator/specs/sizing.js';
import { cloudTapWith } from '../support.js';

const ownsShards = { 'f:spec': { 'f:sizing': { 'f:shards': {} } } };
const operatorApply: ManagedFieldsEntry = { manager: 'cloudtap-operator', operation: 'Apply', fieldsV1: ownsShards };
const kubectlScale: ManagedFieldsEntry = { manager: 'kubectl', operation: 'Update', subresource: 'scale', fieldsV1: ownsShards };
const operatorStatus: ManagedFieldsEntry = { manager: 'cloudtap-operator', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } };

function tap(shards: number | undefined, managedFields: ManagedFieldsEntry[]): CloudTap {
  const base = cloudTapWith({ sizing: { expectedThroughputMbps: 600, ...(shards === undefined ? {} : { shards }) } });
  return { ...base, metadata: { ...base.metadata, managedFields } };
}

describe('operator/controller/shard-count', () => {
  it('sizes the count itself while nobody set it, or only its own apply did', () => {
    expect(shardCountIsAutomatic(tap(undefined, []))).to.equal(true);
    expect(shardCountIsAutomatic(tap(1, [operatorApply, operatorStatus]))).to.equal(true);
    // The count the operator wrote is not an input: the table decides (600 Mbit/s: 2 shards).
    expect(sizeFor(sizedByOperator(tap(1, [operatorApply])).spec.sizing).shards).to.equal(2);
  });

  it('leaves the count to whoever else wrote it (kubectl scale, create, apply)', () => {
    expect(shardCountIsAutomatic(tap(5, [operatorApply, kubectlScale]))).to.equal(false);
    expect(shardCountIsAutomatic(tap(5, [kubectlScale]))).to.equal(false);
    // No managedFields at all (an apiserver that records none): a count that is there is the user's.
    expect(shardCountIsAutomatic(tap(5, []))).to.equal(false);
    expect(shardCountIsAutomatic(tap(5, [operatorStatus]))).to.equal(false);
    expect(sizeFor(sizedByOperator(tap(5, [kubectlScale])).spec.sizing).shards).to.equal(5);
  });
});
