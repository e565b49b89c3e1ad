import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCtapObject } from '../../stitcher/format/reader.js';
import { BlockCodec, ObjectKind, RecordType } from '../../stitcher/format/records.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { HEADER, chunked, dataRecords, everyRecord, layoutOf, readAll, readBytes } from './support.js';

const CHUNK = 64 * 1024;

describe('format/reader', () => {
  describe('a 20 MB object in 64 KiB chunks', () => {
    // Half random (incompressible, deflate stores it) and half repetitive, 16 KiB payloads.
    const records = dataRecords(1280, 16 * 1024).map((r, i) =>
      r.type === RecordType.Data && i % 2 === 0 ? { ...r, payload: randomBytes(r.payload.length) } : r,
    );
    const object = encodeCtapObject(HEADER, records, { codec: BlockCodec.Deflate });
    const layout = layoutOf(object);

    it('hands on every payload byte for byte', async () => {
      expect(records.reduce((n, r) => n + (r.type === RecordType.Data ? r.payload.length : 0), 0)).to.equal(20 * 1024 * 1024);
      const digest = (list: typeof records) => {
        const hash = createHash('sha256');
        for (const r of list) if (r.type === RecordType.Data) hash.update(r.payload);
        return hash.digest('hex');
      };
      const read = await readBytes(object, CHUNK);
      expect(read.damage).to.deep.equal([]);
      expect(read.records.length).to.equal(records.length);
      expect(digest(read.records)).to.equal(digest(records));
      expect(read.blockOffsets).to.deep.equal(layout.blocks.map((b) => b.offset));
      expect(read.summary).to.deep.include({ blocks: layout.blocks.length, complete: true, damaged: false });
    });

    it('reads no further ahead than the block it is decoding plus one chunk', async () => {
      let pulled = 0;
      async function* counted() {
        for await (const chunk of chunked(object, CHUNK)) {
          pulled += chunk.length;
          yield chunk;
        }
      }
      let checked = 0;
      for await (const event of readCtapObject('big.ctap', counted())) {
        if (event.kind !== 'records') continue;
        const block = layout.blocks.find((b) => b.offset === event.offset);
        expect(block, `a block at ${event.offset}`).to.not.equal(undefined);
        const blockEnd = event.offset + 20 + (block?.storedLen ?? 0);
        expect(pulled, `bytes pulled when block ${event.offset} is handed on`).to.be.at.most(blockEnd + CHUNK);
        checked++;
      }
      expect(checked).to.equal(layout.blocks.length).and.to.be.greaterThan(15);
    });
  });

  it('hands DATA payloads and flow ids on as views of the decoded block, not copies', async () => {
    // 20 KB of payloads: more than Node's 8 KiB buffer pool, so only the decoded block can hold them all.
    const object = encodeCtapObject(HEADER, dataRecords(4, 5000), { codec: BlockCodec.Deflate });
    const read = await readBytes(object, 64);
    const buffers = new Set(read.records.flatMap((r) => (r.type === RecordType.Data ? [r.payload.buffer, r.flowId.buffer] : [])));
    expect(buffers.size).to.equal(1);
    expect([...buffers][0].byteLength).to.be.at.least(4 * (5 + 33 + 5000));
  });

  it('tells the source to stop when the consumer stops early', async () => {
    const object = encodeCtapObject(HEADER, dataRecords(100, 500), { blockBytes: 2000 });
    let returned = false;
    const source: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]() {
        const inner = chunked(object, 1000);
        return {
          next: () => inner.next(),
          return: async () => {
            returned = true;
            return { done: true as const, value: undefined };
          },
        };
      },
    };
    for await (const event of readCtapObject('early.ctap', source)) if (event.kind === 'records') break;
    expect(returned).to.equal(true);
  });

  it('reads a Node.js file stream, and destroys it when the consumer stops early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctap-reader-'));
    try {
      const file = join(dir, 'object.ctap');
      const records = dataRecords(200, 300);
      writeFileSync(file, encodeCtapObject(HEADER, records, { blockBytes: 4096 }));
      const read = await readAll('object.ctap', createReadStream(file, { highWaterMark: 1000 }));
      expect(read.damage).to.deep.equal([]);
      expect(read.records).to.deep.equal(records);
      const stream = createReadStream(file, { highWaterMark: 1000 });
      for await (const event of readCtapObject('object.ctap', stream)) if (event.kind === 'records') break;
      expect(stream.destroyed).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts Uint8Array chunks as well as Buffers', async () => {
    const object = encodeCtapObject(HEADER, everyRecord());
    async function* plain() {
      for (let at = 0; at < object.length; at += 10) yield new Uint8Array(object.subarray(at, at + 10));
    }
    const read = await readAll('plain.ctap', plain() as AsyncIterable<Buffer>);
    expect(read.damage).to.deep.equal([]);
    expect(read.records).to.deep.equal(everyRecord());
  });

  it('refuses an object whose kind is not the one its name promises', async () => {
    const object = encodeCtapObject({ ...HEADER, kind: ObjectKind.Keys }, everyRecord());
    const read = await readBytes(object, 4096, { expectedKind: ObjectKind.Traffic });
    expect(read.messages).to.deep.equal(['object obj.ctap at offset 0: header says object kind 2, its name promises kind 1']);
    expect(read.events.map((e) => e.kind)).to.deep.equal(['damage', 'end']);
  });
});
