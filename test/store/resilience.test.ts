/**
 * Every adapter behind the fault-injecting proxy: half the requests are
 * throttled, answered 500, stalled or reset (some part way through the body).
 * Listing, reading and writing many objects must still lose nothing and
 * duplicate nothing: the hashes of what comes out equal those that went in.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { mapBounded } from '../../stitcher/store/discovery.js';
import { openStore } from '../../stitcher/store/open.js';
import type { RetryOptions } from '../../stitcher/store/retry.js';
import { listAll, type ObjectStore } from '../../stitcher/store/store.js';
import { FaultProxy, THROTTLE, type ProxyFault } from '../servers/fault-proxy.js';
import { startProviders, stopProviders, type Providers } from '../servers/providers.js';
import { sha256 } from '../support/sha.js';

after(stopProviders);

/** Half of all requests spoiled, never two in a row, so every retry chain ends. */
const PATTERN: ProxyFault[] = [
  'none', 'throttle', 'none', 'reset-mid', 'none', 'error', 'none', 'reset',
  'none', 'stall-mid', 'none', 'throttle', 'none', 'reset-mid', 'none', 'stall',
];

const RETRY: RetryOptions = { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 40, attemptTimeoutMs: 400, idleTimeoutMs: 300 };
const OBJECTS = 24;

describe('stores behind a fault-injecting proxy', function () {
  this.timeout(60_000);
  let providers: Providers;

  before(async () => {
    providers = await startProviders();
  });

  for (const provider of ['s3', 'gcs', 'fakeGcs', 'azure'] as const) {
    describe(provider, () => {
      let proxy: FaultProxy;
      let direct: ObjectStore;
      let faulty: ObjectStore;
      const written = new Map<string, string>();
      const prefix = `faults-${process.pid}`;

      before(async () => {
        const access = providers[provider];
        proxy = new FaultProxy({ target: access.endpoint.replace(/\/devstoreaccount1$/, ''), pattern: PATTERN, throttle: THROTTLE[provider === 'fakeGcs' ? 'gcs' : provider], stallMs: 1500 });
        const proxyUrl = await proxy.start();
        const proxied = provider === 'azure' ? `${proxyUrl}/devstoreaccount1` : proxyUrl;
        direct = await openStore(access.url('tap', prefix), { credentialsFile: access.credentialsFile });
        faulty = await openStore(access.url('tap', prefix, proxied), { credentialsFile: access.credentialsFile, retry: RETRY });
        for (let index = 0; index < OBJECTS; index++) {
          const data = randomBytes(index % 5 === 0 ? index : 20_000 + index * 9_000);
          const key = `2026/11/25/14/gw-${index % 3}/${String(index).padStart(20, '0')}.ctap`;
          written.set(key, sha256(data));
          await direct.write(key, data);
        }
      });

      after(async () => {
        await proxy.stop();
        await Promise.all([direct.close?.(), faulty.close?.()]);
      });

      it('lists every object exactly once, page by page', async () => {
        const keys: string[] = [];
        let pageToken: string | undefined;
        do {
          const page = await faulty.list({ prefix: '2026/', pageSize: 5, ...(pageToken ? { pageToken } : {}) });
          keys.push(...page.objects.map((o) => o.key));
          pageToken = page.nextPageToken;
        } while (pageToken !== undefined);
        expect(keys).to.deep.equal([...written.keys()].sort());
      });

      it('reads every object whole: no byte lost, none twice', async () => {
        const hashes = await mapBounded([...written.keys()], 4, async (key) => [key, sha256(await buffer(await faulty.read(key)))] as const);
        expect(new Map(hashes)).to.deep.equal(written);
        expect(proxy.counts['reset-mid'] + proxy.counts['stall-mid'], 'faults part way through a body').to.be.greaterThan(0);
      });

      it('writes whole objects through the faults', async () => {
        const uploads = new Map<string, string>();
        for (let index = 0; index < 8; index++) {
          const data = randomBytes(5_000 + index * 1_000);
          const key = `written/${index}.bin`;
          uploads.set(key, sha256(data));
          await faulty.write(key, data);
        }
        const listed = [];
        for await (const object of listAll(direct, 'written/')) listed.push(object.key);
        expect(listed).to.deep.equal([...uploads.keys()].sort());
        for (const [key, hash] of uploads) expect(sha256(await buffer(await direct.read(key))), key).to.equal(hash);
      });

      it('met every kind of fault', () => {
        for (const fault of new Set(PATTERN)) expect(proxy.counts[fault], fault).to.be.greaterThan(0);
      });
    });
  }
});
