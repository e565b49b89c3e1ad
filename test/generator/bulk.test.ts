import { sha256 } from '../support/sha.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bodySha256 } from '../../stitcher/generator/bodies.js';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { reassemble, readAllObjects, recordsByFlow } from './read-back.js';

describe('generator: bulk mode', function () {
  let folder: string;
  before(async function () {
    folder = await mkdtemp(join(tmpdir(), 'cloudtap-generator-bulk-'));
  });
  after(async function () {
    await rm(folder, { recursive: true, force: true });
  });

  it('runs a few large HTTP and HTTPS transfers into objects of about objectBytes', async function () {
    const store = new LocalFolderStore(folder);
    const progress: number[] = [];
    const result = await generateTraffic({
      traffic: store,
      flows: 0,
      totalBytes: 6_000_000,
      bulkBodyBytes: 2_000_000,
      objectBytes: 512 * 1024,
      onProgress: (p) => progress.push(p.flowsDone),
    });
    expect(result.flows.map((f) => f.protocol)).to.deep.equal(['http', 'https', 'http']);
    expect(progress).to.deep.equal([1, 2, 3]);
    for (const flow of result.flows) {
      expect(flow.objects).to.have.length(1);
      const object = flow.objects[0]!;
      expect(object.size).to.equal(2_000_000);
      expect(object.sha256).to.equal(bodySha256('1', { path: object.path, size: object.size, kind: 'binary' }));
    }
    const objects = await readAllObjects(store);
    const traffic = objects.filter((o) => o.header.kind === 1);
    expect(traffic.length).to.be.greaterThan(10);
    for (const object of traffic) expect(object.damage).to.deep.equal([]);
    const flows = recordsByFlow(objects);
    for (const flow of result.flows) {
      const s2c = reassemble(flows.get(flow.flowId)!.data, 1, flow.bytesS2c).bytes;
      expect(sha256(s2c)).to.equal(flow.sha256S2c);
    }
  });
});

describe('generator: failures', function () {
  it('rejects naming the object and the store when an upload fails', async function () {
    const failing: ObjectStore = {
      description: 'memory://broken',
      list: () => Promise.reject(new Error('not used')),
      read: () => Promise.reject(new Error('not used')),
      write: (key: string) => Promise.reject(new Error(`quota exceeded for ${key.length} bytes of key`)),
    };
    let failure: Error | undefined;
    await generateTraffic({ traffic: failing, flows: 4, bodyBytes: 20_000, objectBytes: 4096 }).catch((error: Error) => (failure = error));
    expect(failure?.message).to.match(/while writing traffic object \S+\/gw-a\d\/\d{20}\.ctap to memory:\/\/broken: quota exceeded/);
  });
});

describe('generator: options', function () {
  it('refuses options out of range, naming them, before starting anything', async function () {
    const store = {} as ObjectStore;
    const refusal = (options: Partial<Parameters<typeof generateTraffic>[0]>): Promise<string> =>
      generateTraffic({ traffic: store, flows: 1, ...options }).then(() => 'accepted', (error: Error) => error.message);
    expect(await refusal({ flows: -1 })).to.contain('flows is -1');
    expect(await refusal({ objectBytes: 0 })).to.contain('objectBytes is 0');
    expect(await refusal({ ipv6Share: 1.5 })).to.contain('ipv6Share is 1.5');
    expect(await refusal({ gateways: 1000 })).to.contain('gateways is 1000');
  });
});
