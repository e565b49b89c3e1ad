/** The local folder's read path: a stream, or reads straight into the caller's buffer, and the file closed after either. */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { readObject } from '../../stitcher/ingest/read-object.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { BlockCodec, ObjectKind, RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { HEADER, dataRecords } from '../format/support.js';

let folder: string;
let store: LocalFolderStore;
const BYTES = randomBytes(3 * 1024 * 1024 + 17);

/** The file descriptors this process holds open on files under `folder`. */
async function openFilesUnder(path: string): Promise<number> {
  const { readlink } = await import('node:fs/promises');
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(path)) count++;
  }
  return count;
}

describe('store/local read path', () => {
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cloudtap-local-read-'));
    store = new LocalFolderStore(folder);
    await store.write('a/blob.bin', BYTES);
  });
  after(() => rm(folder, { recursive: true, force: true }));

  it('streams the whole file and closes it', async () => {
    const stream = await store.read('a/blob.bin');
    expect(await buffer(stream)).to.deep.equal(BYTES);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await openFilesUnder(folder)).to.equal(0);
  });

  it('reads into the caller\'s buffer in order, 0 at the end, and closes the file on destroy', async () => {
    const stream = await store.read('a/blob.bin');
    const target = Buffer.alloc(BYTES.length + 10);
    let filled = 0;
    for (;;) {
      const got = await stream.readInto(target, filled, Math.min(1 << 20, target.length - filled));
      if (got === 0) break;
      filled += got;
    }
    expect(filled).to.equal(BYTES.length);
    expect(target.subarray(0, filled)).to.deep.equal(BYTES);
    expect(await openFilesUnder(folder)).to.equal(1);
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(await openFilesUnder(folder)).to.equal(0);
  });

  it('rejects a missing key, naming it, without leaving a file open', async () => {
    const failure = await store.read('a/missing.bin').then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).to.equal(`object a/missing.bin not found in file://${folder}`);
  });

  it('hands the pipeline every record and counts every byte, reusing its memory or not', async () => {
    const records = dataRecords(50, 70_000);
    const object = encodeCtapObject(HEADER, records, { codec: BlockCodec.None, blockBytes: 500_000 });
    await store.write('obj/1.ctap', object);
    for (const reuseBuffers of [false, true]) {
      const payloads: Buffer[] = [];
      const result = await readObject(store, 'obj/1.ctap', ObjectKind.Traffic, {
        onRecords: (batch: readonly CtapRecord[]) => {
          for (const record of batch) if (record.type === RecordType.Data) payloads.push(Buffer.from(record.payload));
        },
        onDamage: (damage) => expect.fail(`unexpected damage: ${damage.problem}`),
        reuseBuffers,
      });
      expect(result.bytesRead).to.equal(object.length);
      expect(result).to.include({ damaged: false });
      expect(result.summary?.records).to.equal(records.length);
      expect(payloads).to.deep.equal(records.map((r) => (r.type === RecordType.Data ? r.payload : Buffer.alloc(0))));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(await openFilesUnder(folder)).to.equal(0);
  });
});
