/**
 * The same contract, checked on every adapter against its real server:
 * S3 on versitygw (SigV4 checked), GCS on the strict in-repo GCS test server and
 * on fake-gcs-server, Azure Blob on Azurite, and the local folder. Listing with delimiter, startAfter and pages; whole reads;
 * keys relative to the URL's prefix; a missing key named in the error.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { openStore } from '../../stitcher/store/open.js';
import { listAll, type ObjectStore } from '../../stitcher/store/store.js';
import { startProviders, stopProviders, type Providers } from '../servers/providers.js';
import { sha256 } from '../support/sha.js';

after(stopProviders);

interface Case {
  readonly name: string;
  /** Opens the store at a prefix, and a second one on the same bucket's root. */
  open(prefix: string): Promise<{ store: ObjectStore; root: ObjectStore }>;
}

let providers: Providers;
let localFolder: string;
let runId = 0;

const cases: Case[] = [
  {
    name: 'local folder',
    open: async (prefix) => ({
      store: await openStore(`file://${join(localFolder, prefix)}`, { role: 'output' }),
      root: await openStore(`file://${localFolder}`),
    }),
  },
  ...(['s3', 'gcs', 'fakeGcs', 'azure'] as const).map((provider): Case => ({
    name: provider,
    open: async (prefix) => {
      const access = providers[provider];
      return {
        store: await openStore(access.url('tap', prefix), { credentialsFile: access.credentialsFile }),
        root: await openStore(access.url('tap', ''), { credentialsFile: access.credentialsFile }),
      };
    },
  })),
];

const KEYS = [
  '2026/11/25/13/gw-a/00000000000000000000.ctap',
  '2026/11/25/13/gw-a/00000000000000000001.ctap',
  '2026/11/25/13/gw-b/00000000000000000000.ctap',
  '2026/11/25/14/gw-a/00000000000000000002.ctap',
  '2026/11/25/14/gw-a/00000000000000000003.ctap',
  '2026/11/25/14/gw-a/00000000000000000004.ctap',
  '2026/11/25/14/gw-c/00000000000000000000.ctap',
  '2026/11/25/14/gw-c/00000000000000000000.keys',
];

describe('store adapters against real servers', function () {
  this.timeout(60_000);

  before(async () => {
    providers = await startProviders();
    localFolder = await mkdtemp(join(tmpdir(), 'cloudtap-local-store-'));
  });

  after(async () => {
    await rm(localFolder, { recursive: true, force: true });
  });

  for (const testCase of cases) {
    describe(testCase.name, () => {
      let store: ObjectStore;
      let root: ObjectStore;
      let prefix: string;
      const contents = new Map<string, Buffer>();

      before(async () => {
        prefix = `run-${process.pid}-${++runId}/tap`;
        ({ store, root } = await testCase.open(prefix));
        for (const [index, key] of KEYS.entries()) {
          const data = randomBytes(1000 + index * 40_000);
          contents.set(key, data);
          await store.write(key, data);
        }
      });

      after(async () => {
        await store.close?.();
        await root.close?.();
      });

      it('lists every key under a prefix, in order, with sizes', async () => {
        const listed = [];
        for await (const object of listAll(store, '2026/11/25/')) listed.push(object);
        expect(listed.map((o) => o.key)).to.deep.equal([...KEYS].sort());
        for (const object of listed) expect(object.size).to.equal(contents.get(object.key)!.length);
      });

      it('groups gateways under an hour by delimiter', async () => {
        const gateways = await store.list({ prefix: '2026/11/25/14/', delimiter: '/' });
        expect(gateways.prefixes).to.deep.equal(['2026/11/25/14/gw-a/', '2026/11/25/14/gw-c/']);
        expect(gateways.objects).to.deep.equal([]);
      });

      it('groups deeper folders by delimiter into common prefixes', async () => {
        const hours = await store.list({ prefix: '2026/11/25/', delimiter: '/' });
        expect(hours.prefixes).to.deep.equal(['2026/11/25/13/', '2026/11/25/14/']);
        expect(hours.objects).to.deep.equal([]);
      });

      it('lists only keys strictly after startAfter', async () => {
        const page = await store.list({ prefix: '2026/11/25/14/gw-a/', startAfter: '2026/11/25/14/gw-a/00000000000000000002.ctap' });
        expect(page.objects.map((o) => o.key)).to.deep.equal(KEYS.slice(4, 6));
      });

      it('pages a delimiter listing, each prefix once', async () => {
        const seen: string[] = [];
        let pageToken: string | undefined;
        do {
          const page = await store.list({ prefix: '2026/11/25/1', delimiter: '/', pageSize: 1, ...(pageToken ? { pageToken } : {}) });
          seen.push(...page.prefixes);
          pageToken = page.nextPageToken;
        } while (pageToken !== undefined);
        expect(seen).to.deep.equal(['2026/11/25/13/', '2026/11/25/14/']);
      });

      it('pages with pageToken, each key once', async () => {
        const seen: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({ prefix: '2026/', pageSize: 3, ...(pageToken ? { pageToken } : {}) });
          expect(page.objects.length).to.be.at.most(3);
          seen.push(...page.objects.map((o) => o.key));
          pageToken = page.nextPageToken;
          pages++;
        } while (pageToken !== undefined);
        expect(seen).to.deep.equal([...KEYS].sort());
        expect(pages).to.be.at.least(3);
      });

      it('reads each object whole, byte for byte', async () => {
        for (const key of KEYS) {
          const read = await buffer(await store.read(key));
          expect(sha256(read), key).to.equal(sha256(contents.get(key)!));
        }
      });

      it('keeps keys relative to the URL prefix', async () => {
        const underRoot = await root.list({ prefix: `${prefix}/2026/11/25/13/gw-b/` });
        expect(underRoot.objects.map((o) => o.key)).to.deep.equal([`${prefix}/${KEYS[2]}`]);
      });

      it('names the key when an object is missing', async () => {
        const missing = '2026/11/25/14/gw-z/00000000000000000009.ctap';
        const failure = await store.read(missing).then(() => undefined, (error: unknown) => error);
        expect(failure).to.be.instanceOf(Error);
        expect((failure as Error).message).to.contain(missing);
      });
    });
  }
});
