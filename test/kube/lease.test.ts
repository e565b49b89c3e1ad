/**
 * The shard Lease against the test Kubernetes API server: one holder at a
 * time, renewals, a holder that cannot renew stops exporting before the Lease
 * may be taken, and a release hands it over at once.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApiServer, type TestApiServer } from '../k8s/server.js';
import { ShardLease } from '../../stitcher/kube/lease.js';
import { silentLogger } from '../../stitcher/observe/log.js';
import { kubeConfigFor } from '../k8s/kubeconfig.js';

describe('pipeline/lease', function () {
  this.timeout(20_000);
  let server: TestApiServer;
  const leases: ShardLease[] = [];
  const lease = (identity: string, durationSeconds = 2): ShardLease => {
    const made = new ShardLease(kubeConfigFor(server), {
      namespace: 'default', name: 'tap-shard-0', identity, leaseDurationSeconds: durationSeconds, retryPeriodMs: 100,
    }, silentLogger());
    leases.push(made);
    return made;
  };

  beforeEach(async () => {
    server = await startTestApiServer();
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.release()));
    await server.close();
  });

  it('lets one pod hold the shard, keeps renewing it, and hands it over at once on release', async () => {
    const first = lease('pod-a');
    expect(await first.acquire(), 'pod-a takes a free Lease').to.equal(true);
    expect(first.mayExport(), 'pod-a, holding').to.equal(true);
    const second = lease('pod-b');
    const waiting = new AbortController();
    let secondHolds = false;
    const claim = second.acquire(waiting.signal).then((held) => (secondHolds = held));
    await sleep(2500); // longer than the lease duration: only renewals keep it
    expect(first.mayExport(), 'the holder renewed').to.equal(true);
    expect(secondHolds, 'the second pod took a held Lease').to.equal(false);
    const type = server.resources.typeOf('coordination.k8s.io', 'v1', 'leases')!;
    expect((server.resources.get(type, 'default', 'tap-shard-0').spec as { holderIdentity: string }).holderIdentity).to.equal('pod-a');
    await first.release();
    await claim;
    expect(secondHolds, 'pod-b once pod-a released').to.equal(true);
    expect(second.mayExport(), 'pod-b, holding').to.equal(true);
    expect(first.mayExport(), 'pod-a after releasing').to.equal(false);
  });

  it('stops exporting before the Lease expires when renewals fail', async () => {
    const holder = lease('pod-a', 3);
    expect(await holder.acquire(), 'pod-a takes a free Lease').to.equal(true);
    let lostAt = 0;
    holder.onLost(() => (lostAt = Date.now()));
    await sleep(300);
    const closed = server.close(); // the API server goes away: no renewal can succeed
    const type = server.resources.typeOf('coordination.k8s.io', 'v1', 'leases')!;
    while (holder.mayExport()) await sleep(20);
    const stoppedAt = Date.now();
    for (let i = 0; i < 50 && lostAt === 0; i++) await sleep(20);
    await closed;
    // what another pod would see: the last renewal that reached the server, plus the duration
    const spec = server.resources.get(type, 'default', 'tap-shard-0').spec as { renewTime: string; holderIdentity: string };
    expect(spec.holderIdentity).to.equal('pod-a');
    const mayBeTakenAt = new Date(spec.renewTime).getTime() + 3000;
    expect(stoppedAt, 'exporting stopped before another pod may take the Lease').to.be.below(mayBeTakenAt);
    expect(lostAt, 'onLost fired').to.be.greaterThan(0);
    expect(lostAt).to.be.below(mayBeTakenAt);
    server = await startTestApiServer(); // for afterEach
  });

  it('a pod whose Lease was taken over stops exporting at its next renewal', async () => {
    const holder = lease('pod-a', 2);
    expect(await holder.acquire(), 'pod-a takes a free Lease').to.equal(true);
    let lost = false;
    holder.onLost(() => (lost = true));
    const type = server.resources.typeOf('coordination.k8s.io', 'v1', 'leases')!;
    const current = server.resources.get(type, 'default', 'tap-shard-0');
    server.resources.update(type, 'default', 'tap-shard-0', { ...current, spec: { ...(current.spec as object), holderIdentity: 'pod-z' } }, undefined as never);
    for (let i = 0; i < 50 && !lost; i++) await sleep(20);
    expect(lost, 'onLost fired after pod-z took the Lease').to.equal(true);
    expect(holder.mayExport(), 'pod-a after pod-z took the Lease').to.equal(false);
  });
});
