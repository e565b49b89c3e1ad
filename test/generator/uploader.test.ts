import { expect } from 'chai';
import type { PendingObject } from '../../stitcher/generator/uploader.js';
import { Uploader } from '../../stitcher/generator/uploader.js';
import { SeededRandom } from '../../stitcher/generator/random.js';
import type { ObjectStore } from '../../stitcher/store/store.js';

function memoryStore(writes: string[], fail?: string): ObjectStore {
  return {
    description: 'memory://test',
    list: () => Promise.reject(new Error('not used')),
    read: () => Promise.reject(new Error('not used')),
    write: async (key: string) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (key === fail) throw new Error('disk full');
      writes.push(key);
    },
  };
}

function object(kind: 'traffic' | 'keys', seq: number): PendingObject {
  return { key: `${kind}/${seq}`, kind, gateway: 'gw-a1', seq: BigInt(seq), createdNs: 0n, bytes: 10, records: 1, data: Buffer.alloc(10) };
}

async function upload(options: Partial<ConstructorParameters<typeof Uploader>[0]>, objects: PendingObject[]): Promise<string[]> {
  const writes: string[] = [];
  const store = memoryStore(writes);
  const uploader = new Uploader({ traffic: store, keys: store, random: new SeededRandom(1), ...options });
  for (const o of objects) uploader.add(o);
  await uploader.finish();
  expect(uploader.written.map((w) => w.key)).to.deep.equal(writes);
  return writes;
}

describe('generator: Uploader', function () {
  const mixed = [object('traffic', 0), object('keys', 0), object('traffic', 1), object('traffic', 2), object('keys', 1), object('traffic', 3)];

  it('writes in the order given by default', async function () {
    expect(await upload({}, mixed)).to.deep.equal(mixed.map((o) => o.key));
  });

  it('lets objects leave a reorder window out of order, writing each once', async function () {
    const many = Array.from({ length: 30 }, (_, i) => object('traffic', i));
    const writes = await upload({ reorderWindow: 5 }, many);
    expect(writes).to.not.deep.equal(many.map((o) => o.key));
    expect([...writes].sort()).to.deep.equal(many.map((o) => o.key).sort());
  });

  it('holds keys back until all traffic is written, or traffic until all keys are', async function () {
    expect(await upload({ keysTiming: 'after-traffic' }, mixed)).to.deep.equal(['traffic/0', 'traffic/1', 'traffic/2', 'traffic/3', 'keys/0', 'keys/1']);
    expect(await upload({ keysTiming: 'before-traffic' }, mixed)).to.deep.equal(['keys/0', 'keys/1', 'traffic/0', 'traffic/1', 'traffic/2', 'traffic/3']);
  });

  it('asks writers to wait while too many bytes are pending, and says which object failed', async function () {
    const writes: string[] = [];
    const store = memoryStore(writes, 'traffic/1');
    const uploader = new Uploader({ traffic: store, keys: store, random: new SeededRandom(1), maxPendingBytes: 15 });
    uploader.add(object('traffic', 0));
    uploader.add(object('traffic', 1));
    const wait = uploader.backpressure();
    expect(wait).to.not.equal(undefined);
    await wait;
    expect(uploader.backpressure()).to.equal(undefined);
    let failure: Error | undefined;
    await uploader.finish().catch((error: Error) => (failure = error));
    expect(failure?.message).to.contain('traffic/1').and.contain('disk full').and.contain('memory://test');
  });
});
