/**
 * Store calls counted by operation and status against the real clients and
 * the test servers of each provider: what the store answered, not what we
 * hoped, for successes, absent objects and refused credentials.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countingStore, StoreCallCounts } from '../../stitcher/store/counting-store.js';
import { openStore } from '../../stitcher/store/open.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { startProviders, type ProviderName, type Providers } from '../servers/providers.js';

async function drain(stream: AsyncIterable<Buffer>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

function tallied(counts: StoreCallCounts): Record<string, number> {
  return Object.fromEntries([...counts.calls.values()].map(({ call, count }) => [`${call.operation} ${call.status} ${call.kind ?? ''}`.trim(), count]));
}

describe('store/counting-store against the test servers', function () {
  this.timeout(60_000);
  let providers: Providers;

  before(async () => {
    providers = await startProviders();
  });

  for (const name of ['s3', 'gcs', 'azure'] as ProviderName[]) {
    it(`${name}: counts writes, lists and reads that succeed, and a read of an absent object as 404 missing`, async () => {
      const access = providers[name];
      const counts = new StoreCallCounts();
      const store: ObjectStore = countingStore(await openStore(access.url('tap', `counting-${name}`), { credentialsFile: access.credentialsFile, retry: { maxAttempts: 1 } }), counts);
      try {
        await store.write('2026/11/25/14/gw-1/00000000000000000001.ctap', Buffer.alloc(100, 1));
        await store.list({ prefix: '2026/' });
        expect(await drain(await store.read('2026/11/25/14/gw-1/00000000000000000001.ctap'))).to.equal(100);
        const failure = await store.read('2026/11/25/14/gw-1/00000000000000000009.ctap').then(drain).then(() => undefined, (error: unknown) => error);
        expect(failure).to.be.instanceOf(Error);
        expect(tallied(counts)).to.deep.equal({ 'write ok': 1, 'list ok': 1, 'read ok': 1, 'read 404 missing': 1 });
      } finally {
        await store.close?.();
      }
    });
  }

  it('azure: counts a refused signature as 403 access (Azurite checks shared-key signatures)', async () => {
    const access = providers.azure;
    const wrong = join(providers.folder, 'wrong-azure.json');
    writeFileSync(wrong, JSON.stringify({ access_key: Buffer.alloc(64, 7).toString('base64') }), { mode: 0o600 });
    const counts = new StoreCallCounts();
    // An output store is not checked at open: the first call meets the refusal.
    const store = countingStore(await openStore(access.url('tap', 'counting-wrong'), { credentialsFile: wrong, role: 'output', retry: { maxAttempts: 1 } }), counts);
    try {
      await store.write('x/2026/11/25/14/gw-1/00000000000000000001.ctap', Buffer.alloc(10)).then(() => undefined, (error: unknown) => error);
      expect(tallied(counts)).to.deep.equal({ 'write 403 access': 1 });
    } finally {
      await store.close?.();
    }
  });
});
