/**
 * What a poll lists and hands out: only the hours of its window however many old
 * ones a bucket holds, each gateway's objects in <seq> order after its cursor,
 * and missing <seq> numbers waited for or passed with a report.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectKey } from '../../stitcher/format/object-key.js';
import { ObjectKind } from '../../stitcher/format/records.js';
import { ObjectFeed, type SeqGap } from '../../stitcher/ingest/object-feed.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import type { ListOptions, ListPage, ObjectStore } from '../../stitcher/store/store.js';

const HOUR_NS = 3_600_000_000_000n;

/** Counts list requests and remembers which prefixes they named. */
class CountingStore implements ObjectStore {
  readonly listed: string[] = [];
  constructor(private readonly inner: ObjectStore) {}
  get description(): string {
    return this.inner.description;
  }
  list(options: ListOptions): Promise<ListPage> {
    this.listed.push(options.prefix);
    return this.inner.list(options);
  }
  read(key: string): ReturnType<ObjectStore['read']> {
    return this.inner.read(key);
  }
  write(key: string, data: Buffer): Promise<void> {
    return this.inner.write(key, data);
  }
}

async function bucketWith(objects: { gateway: string; seq: bigint; ns: bigint }[]): Promise<LocalFolderStore> {
  const store = new LocalFolderStore(await mkdtemp(join(tmpdir(), 'cloudtap-feed-')));
  for (const { gateway, seq, ns } of objects) {
    await store.write(objectKey('', ObjectKind.Traffic, gateway, seq, ns), Buffer.from('x'));
  }
  return store;
}

const nowNs = BigInt(Date.now()) * 1_000_000n;

describe('pipeline/object-feed', () => {
  it('a look-back poll lists only the recent hours, not thousands of old gateway prefixes', async function () {
    this.timeout(60_000);
    const old = [];
    for (let hour = 0; hour < 20; hour++) {
      for (let g = 0; g < 100; g++) old.push({ gateway: `old-${g}`, seq: BigInt(hour), ns: nowNs - BigInt(48 + hour) * HOUR_NS });
    }
    const fresh = [
      { gateway: 'gw-a', seq: 0n, ns: nowNs - HOUR_NS },
      { gateway: 'gw-a', seq: 1n, ns: nowNs },
      { gateway: 'gw-b', seq: 0n, ns: nowNs },
    ];
    const store = new CountingStore(await bucketWith([...old, ...fresh]));
    const feed = new ObjectFeed(store, ObjectKind.Traffic, { kind: 'look-back', ms: 2 * 3_600_000 });
    const objects = await feed.poll(false, () => undefined);
    expect(objects.map((o) => `${o.gateway}/${o.seq}`)).to.deep.equal(['gw-a/0', 'gw-a/1', 'gw-b/0']);
    // window: 2 h back + the current hour + 15 min of clock skew = at most 4 hours;
    // per hour one gateway listing, per gateway found one object listing
    expect(store.listed.length).to.be.at.most(4 + 3);
    expect(store.listed.filter((prefix) => prefix.includes('old-'))).to.deep.equal([]);
    store.listed.length = 0;
    expect(await feed.poll(false, () => undefined)).to.deep.equal([]);
    expect(store.listed.length).to.be.at.most(4 + 3);
  });

  it('a one-off poll walks every hour and hands out each gateway in <seq> order across hours', async () => {
    const store = await bucketWith([
      { gateway: 'gw-a', seq: 1n, ns: nowNs },
      { gateway: 'gw-a', seq: 0n, ns: nowNs - 30n * HOUR_NS },
      { gateway: 'gw-b', seq: 0n, ns: nowNs - 30n * HOUR_NS },
    ]);
    const objects = await new ObjectFeed(store, ObjectKind.Traffic).poll(true, () => undefined);
    expect(objects.map((o) => `${o.gateway}/${o.seq}`)).to.deep.equal(['gw-a/0', 'gw-b/0', 'gw-a/1']);
  });

  it('waits at a missing <seq> while polling, passes it with a report in a one-off run', async () => {
    const store = await bucketWith([0n, 1n, 3n, 4n].map((seq) => ({ gateway: 'gw-a', seq, ns: nowNs })));
    const waiting = new ObjectFeed(store, ObjectKind.Traffic);
    expect((await waiting.poll(false, () => undefined)).map((o) => o.seq)).to.deep.equal([0n, 1n]);
    await store.write(objectKey('', ObjectKind.Traffic, 'gw-a', 2n, nowNs), Buffer.from('x'));
    expect((await waiting.poll(false, () => undefined)).map((o) => o.seq)).to.deep.equal([2n, 3n, 4n]);

    const gaps: SeqGap[] = [];
    const store2 = await bucketWith([0n, 3n].map((seq) => ({ gateway: 'gw-c', seq, ns: nowNs })));
    const passing = new ObjectFeed(store2, ObjectKind.Traffic);
    expect((await passing.poll(true, (gap) => gaps.push(gap))).map((o) => o.seq)).to.deep.equal([0n, 3n]);
    expect(gaps).to.deep.equal([{ gateway: 'gw-c', fromSeq: 1n, toSeq: 2n }]);
  });

  it('passes a missing <seq> once it was waited for --reorder-wait, and picks up a late object of the previous hour before that', async () => {
    let now = Date.now();
    const store = await bucketWith([0n, 2n].map((seq) => ({ gateway: 'gw-a', seq, ns: nowNs })));
    const gaps: SeqGap[] = [];
    const feed = new ObjectFeed(store, ObjectKind.Traffic, { kind: 'look-back', ms: 3 * 3_600_000 }, { reorderWaitMs: 60_000, now: () => now });
    expect((await feed.poll(false, (gap) => gaps.push(gap))).map((o) => o.seq)).to.deep.equal([0n]);
    expect(feed.waitingGateways).to.equal(1);
    now += 59_000;
    expect(await feed.poll(false, (gap) => gaps.push(gap))).to.deep.equal([]);
    expect(gaps).to.deep.equal([]);
    // seq 1 lands late, in the previous hour's folder: still within the look-back window
    await store.write(objectKey('', ObjectKind.Traffic, 'gw-a', 1n, nowNs - HOUR_NS), Buffer.from('x'));
    expect((await feed.poll(false, (gap) => gaps.push(gap))).map((o) => o.seq)).to.deep.equal([1n, 2n]);
    expect(feed.waitingGateways).to.equal(0);
    expect(gaps).to.deep.equal([]);

    await store.write(objectKey('', ObjectKind.Traffic, 'gw-a', 4n, nowNs), Buffer.from('x'));
    expect(await feed.poll(false, (gap) => gaps.push(gap))).to.deep.equal([]);
    now += 60_000;
    expect((await feed.poll(false, (gap) => gaps.push(gap))).map((o) => o.seq)).to.deep.equal([4n]);
    expect(gaps).to.deep.equal([{ gateway: 'gw-a', fromSeq: 3n, toSeq: 3n }]);
    // the object that was given up on shows up after all: it is not handed out twice or late
    await store.write(objectKey('', ObjectKind.Traffic, 'gw-a', 3n, nowNs), Buffer.from('x'));
    expect(await feed.poll(false, (gap) => gaps.push(gap))).to.deep.equal([]);
  });

  it('lists only the gateways it owns, and starts a seeded gateway at its checkpointed <seq>', async () => {
    const store = await bucketWith(['gw-a', 'gw-b', 'gw-c', 'gw-d'].flatMap((gateway) => [0n, 1n, 2n].map((seq) => ({ gateway, seq, ns: nowNs }))));
    const feed = new ObjectFeed(store, ObjectKind.Traffic, { kind: 'all' }, { owns: (gateway) => gateway === 'gw-b' || gateway === 'gw-d' });
    feed.seed('gw-d', { nextSeq: 2n });
    const objects = await feed.poll(true, () => undefined);
    expect(objects.map((o) => `${o.gateway}/${o.seq}`).sort()).to.deep.equal(['gw-b/0', 'gw-b/1', 'gw-b/2', 'gw-d/2']);
    expect([...feed.cursors()].map(([gateway, cursor]) => [gateway, cursor.nextSeq])).to.have.deep.members([['gw-b', 3n], ['gw-d', 3n]]);
  });

  it('names the gateways whose last object is out of the look-back window, and forgets one retired', async () => {
    let now = Date.now();
    const store = await bucketWith([{ gateway: 'gw-old', seq: 0n, ns: nowNs }, { gateway: 'gw-new', seq: 0n, ns: nowNs }]);
    const feed = new ObjectFeed(store, ObjectKind.Traffic, { kind: 'look-back', ms: 3_600_000 }, { now: () => now });
    await feed.poll(false, () => undefined);
    expect(feed.outOfWindow()).to.deep.equal([]);
    now += 3 * 3_600_000;
    expect(feed.outOfWindow().sort()).to.deep.equal(['gw-new', 'gw-old']);
    feed.retire('gw-old');
    expect([...feed.cursors().keys()]).to.deep.equal(['gw-new']);
  });
});
