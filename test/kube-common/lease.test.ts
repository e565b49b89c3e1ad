import { expect } from 'chai';
import type { V1Lease } from '@kubernetes/client-node';
import { claimedSpec, mayClaim, microTime, releaseIfHeld, releasedSpec, takesOver } from '../../kube-common/lease.js';

const NOW = new Date('2026-12-06T20:00:00.123Z');
const secondsBefore = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);

describe('kube-common/lease', () => {
  it('writes MicroTime with the six fractional digits the API server parses', () => {
    expect(String(microTime(NOW))).to.equal('2026-12-06T20:00:00.123000Z');
  });

  it('lets a claimant take a Lease that is free, its own, or expired, and no other', () => {
    const heldByOther = { holderIdentity: 'pod-a', leaseDurationSeconds: 15, renewTime: microTime(secondsBefore(10)) };
    expect(mayClaim(heldByOther, 'pod-b', 15, NOW), 'held by pod-a, renewed 10 s ago').to.equal(false);
    expect(mayClaim(heldByOther, 'pod-a', 15, NOW), 'its own').to.equal(true);
    expect(mayClaim({ ...heldByOther, holderIdentity: '' }, 'pod-b', 15, NOW), 'released').to.equal(true);
    expect(mayClaim({ ...heldByOther, renewTime: secondsBefore(16) }, 'pod-b', 15, NOW), 'expired (a Date)').to.equal(true);
    expect(mayClaim({ ...heldByOther, leaseDurationSeconds: undefined }, 'pod-b', 5, NOW), 'expired by the default duration').to.equal(true);
    expect(mayClaim(undefined, 'pod-b', 15, NOW), 'no Lease yet').to.equal(true);
  });

  it('counts a takeover as a transition and a renewal not', () => {
    const first = claimedSpec(undefined, 'pod-a', 15, secondsBefore(30));
    expect(first).to.deep.include({ holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const renewed = claimedSpec(first, 'pod-a', 15, NOW);
    expect(renewed.leaseTransitions).to.equal(0);
    expect(String(renewed.acquireTime), 'acquired when first taken').to.equal(String(first.acquireTime));
    expect(String(renewed.renewTime)).to.equal(String(microTime(NOW)));
    expect(takesOver(renewed, 'pod-b')).to.equal(true);
    const taken = claimedSpec(renewed, 'pod-b', 15, NOW);
    expect(taken).to.deep.include({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    expect(String(taken.acquireTime)).to.equal(String(microTime(NOW)));
  });

  it('gives a Lease up so that a successor need not wait for it to expire', () => {
    const released = releasedSpec({ holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 3 });
    expect(released).to.deep.equal({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 3 });
    expect(mayClaim(released, 'pod-b', 15, NOW)).to.equal(true);
  });

  it('releases a Lease only while this identity still holds it', async () => {
    const replaced: V1Lease[] = [];
    const replace = async (lease: V1Lease): Promise<void> => void replaced.push(lease);
    const lease = (holderIdentity: string): V1Lease => ({ metadata: { name: 'l' }, spec: { holderIdentity, leaseDurationSeconds: 15 } });
    await releaseIfHeld(lease('pod-b'), 'pod-a', replace);
    await releaseIfHeld(undefined, 'pod-a', replace);
    expect(replaced, 'taken over or gone: left alone').to.deep.equal([]);
    await releaseIfHeld(lease('pod-a'), 'pod-a', replace);
    expect(replaced.map((l) => l.spec)).to.deep.equal([{ holderIdentity: '', leaseDurationSeconds: 1 }]);
  });
});
