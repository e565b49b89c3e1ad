/**
 * The listing schedule alone (back-off, cap, hour sweeps, forgetting old
 * hours), and an object feed that follows it over a real local folder on a
 * simulated clock: its store calls follow the active gateways, not the
 * number of gateways, and a quiet gateway's new object is still seen within
 * the cap and one poll.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectKey } from '../../stitcher/format/object-key.js';
import { ObjectKind } from '../../stitcher/format/records.js';
import { ObjectFeed } from '../../stitcher/ingest/object-feed.js';
import { countingStore, StoreCallCounts } from '../../stitcher/store/counting-store.js';
import { hourPrefix } from '../../stitcher/store/discovery.js';
import { ListingSchedule } from '../../stitcher/store/listing-schedule.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import type { ObjectStore } from '../../stitcher/store/store.js';

const POLL_MS = 1000;
const CAP_MS = 10_000;

describe('store/listing-schedule', () => {
  it('lists an active gateway every poll, backs a quiet one off by doubling until the step would reach the cap, then leaves it to the sweeps', () => {
    let now = 0;
    const schedule = new ListingSchedule({ pollIntervalMs: POLL_MS, maxQuietMs: CAP_MS, now: () => now });
    schedule.listed('gw', true);
    const listedAt: number[] = [];
    for (now = 1000; now <= 40_000; now += POLL_MS) {
      if (!schedule.dueGateways().has('gw')) continue;
      listedAt.push(now);
      schedule.listed('gw', now < 3000);
    }
    // active up to 2 s, then steps of 1, 2, 4 and 8 s; the next (16 s) would pass the cap of 10 s
    expect(listedAt).to.deep.equal([1000, 2000, 3000, 4000, 6000, 10_000, 18_000]);
    expect(schedule.size).to.equal(0);
    schedule.listed('gw', true);
    now += POLL_MS;
    expect([...schedule.dueGateways()]).to.deep.equal(['gw']);
  });

  it('sweeps an hour when first seen, then once per cap, and forgets the hours before the window', () => {
    let now = 0;
    const schedule = new ListingSchedule({ pollIntervalMs: POLL_MS, maxQuietMs: CAP_MS, now: () => now });
    const sweptAt: number[] = [];
    for (now = 0; now <= 25_000; now += POLL_MS) {
      if (!schedule.isSweepDue('2026/01/01/01/')) continue;
      sweptAt.push(now);
      schedule.swept('2026/01/01/01/', false);
    }
    expect(sweptAt).to.deep.equal([0, 10_000, 20_000]);
    schedule.swept('2026/01/01/00/', false);
    schedule.forgetBefore('2026/01/01/01/');
    expect(schedule.isSweepDue('2026/01/01/00/')).to.equal(true);
    expect(schedule.isSweepDue('2026/01/01/01/')).to.equal(false);
  });

  it('sweeps the hour of now every poll while it holds nothing, an empty older hour only once per cap', () => {
    let now = Date.UTC(2026, 0, 1, 1, 30);
    const schedule = new ListingSchedule({ pollIntervalMs: POLL_MS, maxQuietMs: CAP_MS, now: () => now });
    const current = hourPrefix(new Date(now));
    const older = hourPrefix(new Date(now - 3_600_000));
    schedule.swept(current, true);
    schedule.swept(older, true);
    now += POLL_MS;
    expect(schedule.isSweepDue(current)).to.equal(true);
    expect(schedule.isSweepDue(older)).to.equal(false);
    schedule.swept(current, false);
    now += POLL_MS;
    expect(schedule.isSweepDue(current)).to.equal(false);
  });

  describe('an object feed following it', function () {
    this.timeout(120_000);
    let folder: string;
    let now: number;
    let store: ObjectStore;
    let counts: StoreCallCounts;
    let local: LocalFolderStore;
    const name = (i: number): string => `gw-${String(i).padStart(4, '0')}`;
    const put = (gateway: number, seq: bigint): Promise<void> =>
      local.write(objectKey('', ObjectKind.Traffic, name(gateway), seq, BigInt(now) * 1_000_000n), Buffer.from('x'));
    const feedOf = (): ObjectFeed => new ObjectFeed(store, ObjectKind.Traffic, { kind: 'range', from: new Date(now), to: new Date(now) }, {
      now: () => now, listing: { pollIntervalMs: POLL_MS, maxQuietMs: CAP_MS },
    });

    beforeEach(async () => {
      folder = await mkdtemp(join(tmpdir(), 'cloudtap-schedule-'));
      local = new LocalFolderStore(folder);
      counts = new StoreCallCounts();
      store = countingStore(local, counts);
      // mid-hour, so a minute of simulated polls stays in one hour folder
      now = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 60_000;
    });
    afterEach(async () => {
      await rm(folder, { recursive: true, force: true });
    });

    /** List calls per poll over `polls` polls in which gateways 0..active-1 each add an object a poll. */
    async function steadyListsPerPoll(feed: ObjectFeed, gateways: number, active: number, polls: number): Promise<number> {
      const nextSeq = new Map<number, bigint>();
      for (let i = 0; i < gateways; i++) {
        await put(i, 0n);
        nextSeq.set(i, 1n);
      }
      const poll = async (): Promise<void> => {
        for (let i = 0; i < active; i++) {
          await put(i, nextSeq.get(i)!);
          nextSeq.set(i, nextSeq.get(i)! + 1n);
        }
        await feed.poll(false, () => undefined);
        now += POLL_MS;
      };
      for (let settle = 0; settle < (3 * CAP_MS) / POLL_MS; settle++) await poll();
      const before = counts.total('list');
      for (let i = 0; i < polls; i++) await poll();
      return (counts.total('list') - before) / polls;
    }

    it('makes store calls per poll that follow the active gateways: 1,000 gateways of which 10 are active', async () => {
      const perPoll = await steadyListsPerPoll(feedOf(), 1000, 10, 20);
      // each active gateway's folder, and once per cap a flat sweep of the hour (2 pages of 1,000 keys): never a call per quiet gateway
      expect(perPoll).to.be.at.most(3 * 10 + 2);
      expect(perPoll).to.be.at.least(9);
    });

    it('leaves the hour ahead of now (the clock-skew margin of a look-back window) to its sweeps', async () => {
      // 5 minutes before the hour ends, the window holds the next hour too; a minute of polls stays in this one
      now = Math.floor(now / 3_600_000) * 3_600_000 + 54 * 60_000;
      const feed = new ObjectFeed(store, ObjectKind.Traffic, { kind: 'look-back', ms: 1 }, { now: () => now, listing: { pollIntervalMs: POLL_MS, maxQuietMs: CAP_MS } });
      const perPoll = await steadyListsPerPoll(feed, 1000, 10, 20);
      // one folder per active gateway (not one in each hour), the sweeps of both hours once per cap
      expect(perPoll).to.be.at.most(1.5 * 10);
    });

    it('makes as many store calls per poll with 1,000 gateways as with 100, the same 10 active', async () => {
      const many = await steadyListsPerPoll(feedOf(), 1000, 10, 20);
      await rm(folder, { recursive: true, force: true });
      const few = await steadyListsPerPoll(feedOf(), 100, 10, 20);
      expect(many).to.be.at.most(few * 1.2);
    });

    it('sees the first object of a new gateway in a bucket empty till then at the next poll', async () => {
      const feed = feedOf();
      await feed.poll(false, () => undefined);
      now += POLL_MS;
      await put(0, 0n);
      const objects = await feed.poll(false, () => undefined);
      expect(objects.map((object) => object.gateway)).to.deep.equal([name(0)]);
    });

    it('sees a quiet gateway\'s new object within the cap and one poll', async () => {
      const feed = feedOf();
      await steadyListsPerPoll(feed, 20, 1, 5);
      const landed = now;
      await put(19, 1n);
      let seenAfterMs: number | undefined;
      while (seenAfterMs === undefined && now - landed <= 3 * CAP_MS) {
        const objects = await feed.poll(false, () => undefined);
        if (objects.some((object) => object.gateway === name(19))) seenAfterMs = now - landed;
        now += POLL_MS;
      }
      expect(seenAfterMs, 'the quiet gateway\'s object was never seen').to.not.equal(undefined);
      expect(seenAfterMs).to.be.at.most(CAP_MS + POLL_MS);
    });
  });
});
