/**
 * Discovery that stays cheap: a poll names the hours of its look-back window,
 * lists gateways by delimiter and a gateway's objects after its cursor. With
 * thousands of old gateway prefixes in the bucket, the requests a poll makes
 * (counted at the server) touch only the window.
 */
import { expect } from 'chai';
import { hourPrefix, listGateways, listHours, listObjectsAfter, lookBackHours, mapBounded } from '../../stitcher/store/discovery.js';
import { openStore } from '../../stitcher/store/open.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { FaultProxy, THROTTLE } from '../servers/fault-proxy.js';
import { GcsTestServer } from '../servers/gcs-server.js';
import { startProviders, stopProviders } from '../servers/providers.js';

after(stopProviders);

const HOUR = 3_600_000;

describe('store discovery', () => {
  describe('hours', () => {
    it('names the UTC hour of a time', () => {
      expect(hourPrefix(new Date('2026-01-02T03:59:59.999Z'))).to.equal('2026/01/02/03/');
    });

    it('lists every hour from one to another, both included, across a day and a year', () => {
      expect(listHours(new Date('2025-12-31T22:30:00Z'), new Date('2026-01-01T01:00:00Z'))).to.deep.equal([
        '2025/12/31/22/', '2025/12/31/23/', '2026/01/01/00/', '2026/01/01/01/',
      ]);
    });

    it('covers a look-back window ending now', () => {
      const now = new Date('2026-11-25T14:10:00Z');
      expect(lookBackHours(now, 2 * HOUR)).to.deep.equal(['2026/11/25/12/', '2026/11/25/13/', '2026/11/25/14/']);
      expect(lookBackHours(now, 0)).to.deep.equal(['2026/11/25/14/']);
    });

    it('refuses a backwards or huge span', () => {
      expect(() => listHours(new Date('2026-01-02Z'), new Date('2026-01-01Z'))).to.throw(/before/);
      expect(() => listHours(new Date('2000-01-01Z'), new Date('2026-01-01Z'))).to.throw(/over/);
    });
  });

  describe('bounded concurrency', () => {
    it('never runs more than the limit at once and keeps the order of results', async () => {
      let running = 0;
      let peak = 0;
      const results = await mapBounded(Array.from({ length: 20 }, (_, i) => i), 3, async (item) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
        running--;
        return item * 2;
      });
      expect(peak).to.equal(3);
      expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i * 2));
    });

    it('rejects with the first failure', async () => {
      const failure = await mapBounded([1, 2, 3], 2, async (item) => {
        if (item === 2) throw new Error('object 2 failed');
        return item;
      }).then(() => undefined, (error: unknown) => error as Error);
      expect(failure?.message).to.equal('object 2 failed');
    });
  });

  describe('listing cost with thousands of old gateway prefixes', () => {
    const now = new Date('2026-11-25T14:20:00Z');
    const oldHours = listHours(new Date(now.getTime() - 100 * HOUR), new Date(now.getTime() - 3 * HOUR));
    const window = lookBackHours(now, 2 * HOUR);
    const recent: Record<string, readonly string[]> = {
      [window[0]]: ['gw-a', 'gw-b'], [window[1]]: ['gw-a'], [window[2]]: ['gw-a', 'gw-c', 'gw-d'],
    };
    let server: GcsTestServer;
    let store: ObjectStore;

    const key = (hour: string, gateway: string, seq: number): string => `${hour}${gateway}/${String(seq).padStart(20, '0')}.ctap`;

    before(async () => {
      server = new GcsTestServer({ buckets: ['tap'] });
      const endpoint = await server.start();
      for (const hour of oldHours) {
        for (let g = 0; g < 30; g++) server.objects.put('tap', `root/${key(hour, `old-${g}`, 0)}`, Buffer.from('x'));
      }
      for (const [hour, gateways] of Object.entries(recent)) {
        for (const gateway of gateways) {
          for (let seq = 0; seq < 3; seq++) server.objects.put('tap', `root/${key(hour, gateway, seq)}`, Buffer.from('x'));
        }
      }
      store = await openStore(`gs://tap/root?endpoint=${encodeURIComponent(endpoint)}`);
    });

    after(() => server.stop());

    /** One poll: the window's hours, their gateways, each gateway's objects after its cursor. */
    async function poll(cursors: Map<string, string>): Promise<string[]> {
      const found: string[] = [];
      for (const hour of window) {
        for (const gateway of await listGateways(store, hour)) {
          const objects = await listObjectsAfter(store, `${hour}${gateway}/`, cursors.get(gateway));
          for (const object of objects) {
            found.push(object.key);
            cursors.set(gateway, object.key);
          }
        }
      }
      return found;
    }

    it('lists only the look-back window, one request per hour and per gateway in it', async () => {
      expect(oldHours.length * 30).to.be.greaterThan(2500);
      const before = server.requests.length;
      const found = await poll(new Map());
      const requests = server.requests.slice(before);
      const gatewaysInWindow = Object.values(recent).reduce((sum, gateways) => sum + gateways.length, 0);
      expect(requests.length).to.equal(window.length + gatewaysInWindow);
      for (const request of requests) {
        const prefix = request.query.get('prefix') ?? '';
        expect(window.some((hour) => prefix.startsWith(`root/${hour}`)), prefix).to.equal(true);
      }
      expect(found).to.have.length(gatewaysInWindow * 3);
    });

    it('lists only what is new after the cursors on the next poll', async () => {
      const cursors = new Map<string, string>();
      await poll(cursors);
      const lastHour = window[2];
      server.objects.put('tap', `root/${key(lastHour, 'gw-c', 3)}`, Buffer.from('new'));
      const before = server.requests.length;
      expect(await poll(cursors)).to.deep.equal([key(lastHour, 'gw-c', 3)]);
      const startOffsets = server.requests.slice(before).map((r) => r.query.get('startOffset')).filter((s) => s !== null);
      expect(startOffsets, 'gateway listings start after their cursor').to.include(`root/${key(lastHour, 'gw-c', 2)}`);
    });
  });

  for (const provider of ['s3', 'azure'] as const) {
    describe(`listing cost on ${provider}, counted at a pass-through proxy`, function () {
      this.timeout(30_000);
      const now = new Date('2026-11-25T14:20:00Z');
      const window = lookBackHours(now, HOUR);
      let proxy: FaultProxy;
      let store: ObjectStore;

      before(async () => {
        const access = (await startProviders())[provider];
        const root = `cost-${process.pid}`;
        const direct = await openStore(access.url('tap', root), { credentialsFile: access.credentialsFile });
        const old = listHours(new Date(now.getTime() - 40 * HOUR), new Date(now.getTime() - 2 * HOUR));
        const keys = old.flatMap((hour) => Array.from({ length: 8 }, (_, g) => `${hour}old-${g}/00000000000000000000.ctap`));
        keys.push(`${window[0]}gw-a/00000000000000000000.ctap`, `${window[1]}gw-a/00000000000000000001.ctap`, `${window[1]}gw-b/00000000000000000000.ctap`);
        await mapBounded(keys, 16, (key) => direct.write(key, Buffer.from('x')));
        await direct.close?.();
        proxy = new FaultProxy({ target: access.endpoint.replace(/\/devstoreaccount1$/, ''), pattern: ['none'], throttle: THROTTLE.s3 });
        const proxyUrl = await proxy.start();
        store = await openStore(access.url('tap', root, provider === 'azure' ? `${proxyUrl}/devstoreaccount1` : proxyUrl), {
          credentialsFile: access.credentialsFile,
        });
      });

      after(async () => {
        await store.close?.();
        await proxy.stop();
      });

      it('makes one request per hour and per gateway in the window, whatever lies before it', async () => {
        const before = proxy.requests;
        const found: string[] = [];
        for (const hour of window) {
          for (const gateway of await listGateways(store, hour)) {
            found.push(...(await listObjectsAfter(store, `${hour}${gateway}/`)).map((o) => o.key));
          }
        }
        expect(found).to.deep.equal([
          `${window[0]}gw-a/00000000000000000000.ctap`, `${window[1]}gw-a/00000000000000000001.ctap`, `${window[1]}gw-b/00000000000000000000.ctap`,
        ]);
        expect(proxy.requests - before).to.equal(window.length + 3);
      });
    });
  }
});
