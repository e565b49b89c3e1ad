import { expect } from 'chai';
import { setCondition } from '../../../operator/api/conditions.js';

describe('operator/api/conditions', () => {
  const ready = { type: 'Ready', status: 'False', reason: 'ShardsStarting', message: '0/2 shards ready' } as const;

  it('keeps lastTransitionTime while the status stays, and moves it when it flips', () => {
    const first = setCondition(undefined, ready, 1, '2026-01-01T00:00:00Z');
    const same = setCondition(first, { ...ready, message: '1/2 shards ready' }, 2, '2026-01-01T00:01:00Z');
    expect(same[0]).to.include({ lastTransitionTime: '2026-01-01T00:00:00Z', message: '1/2 shards ready', observedGeneration: 2 });
    const flipped = setCondition(same, { ...ready, status: 'True', reason: 'AllShardsReady' }, 2, '2026-01-01T00:02:00Z');
    expect(flipped[0]).to.include({ status: 'True', lastTransitionTime: '2026-01-01T00:02:00Z' });
  });

  it('keeps other conditions and their order', () => {
    const two = setCondition(setCondition(undefined, ready, 1, 't1'), { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }, 1, 't1');
    const updated = setCondition(two, { ...ready, status: 'True' }, 1, 't2');
    expect(updated.map((condition) => condition.type)).to.deep.equal(['Ready', 'Degraded']);
    expect(updated[1]).to.deep.equal(two[1]);
  });
});
