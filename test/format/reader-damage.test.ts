/** Bad input, one case per test: the exact damage reported, and the good records kept. */
import { expect } from 'chai';
import { crc32, deflateRawSync } from 'node:zlib';
import { encodeBlock } from '../../stitcher/format/block.js';
import { encodeEnd } from '../../stitcher/format/end.js';
import { encodeHeader } from '../../stitcher/format/header.js';
import { encodeRecord } from '../../stitcher/format/record-encoder.js';
import { readCtapObject } from '../../stitcher/format/reader.js';
import { BlockCodec, RecordType } from '../../stitcher/format/records.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { HEADER, chunked, dataRecords, everyRecord, flipBit, layoutOf, readAll, readBytes, withU32 } from './support.js';

const RECORD_BYTES = 5 + 33 + 200;
/** Three blocks of four DATA records each. */
const RECORDS = dataRecords(12, 200);
const BLOCK = (n: number) => RECORDS.slice(4 * n, 4 * n + 4);

function threeBlocks(codec: BlockCodec): Buffer {
  const object = encodeCtapObject(HEADER, RECORDS, { codec, blockBytes: 4 * RECORD_BYTES });
  expect(layoutOf(object).blocks.length).to.equal(3);
  return object;
}

const PLAIN = threeBlocks(BlockCodec.None);
const PLAIN_LAYOUT = layoutOf(PLAIN);
const DEFLATED = threeBlocks(BlockCodec.Deflate);
const DEFLATED_LAYOUT = layoutOf(DEFLATED);
const at = (n: number) => `object obj.ctap at offset ${n}: `;

/** An object from raw parts, so that tests can put in what the writer never would. */
function assemble(rawBlocks: Buffer[], recordCount: number, codec = BlockCodec.None): Buffer {
  return Buffer.concat([
    encodeHeader(HEADER),
    ...rawBlocks.map((raw) => encodeBlock(raw, codec)),
    encodeEnd({ blockCount: rawBlocks.length, recordCount: BigInt(recordCount), firstNs: 0n, lastNs: 0n }),
  ]);
}

describe('format/reader on bad input', () => {
  it('reports an empty object', async () => {
    const read = await readBytes(Buffer.alloc(0));
    expect(read.messages).to.deep.equal([`${at(0)}empty object (0 bytes): no CTAP header`]);
    expect(read.events.map((e) => e.kind)).to.deep.equal(['damage', 'end']);
    expect(read.summary).to.deep.equal({ object: 'obj.ctap', header: undefined, trailer: undefined, blocks: 0, records: 0, damaged: true, complete: false });
  });

  it('reports an object truncated in its header', async () => {
    const read = await readBytes(PLAIN.subarray(0, 20), 3);
    expect(read.messages).to.deep.equal([`${at(20)}truncated in the header: 20 of ${PLAIN_LAYOUT.headerBytes} bytes`]);
    expect(read.summary).to.deep.include({ header: undefined, damaged: true, complete: false });
    const tiny = await readBytes(PLAIN.subarray(0, 5), 2);
    expect(tiny.messages).to.deep.equal([`${at(5)}truncated in the header: 5 of at least 29 bytes`]);
  });

  it('reports an object truncated mid-block and keeps the blocks before', async () => {
    const second = PLAIN_LAYOUT.blocks[1];
    const read = await readBytes(PLAIN.subarray(0, second.offset + 20 + 100), 64);
    expect(read.messages).to.deep.equal([`${at(second.offset)}truncated in a block: stored_len ${second.storedLen} but only 100 bytes follow`]);
    expect(read.records).to.deep.equal(BLOCK(0));
    expect(read.summary).to.deep.include({ blocks: 1, records: 4, damaged: true, complete: false });
  });

  it('reports an object truncated in a block header', async () => {
    const second = DEFLATED_LAYOUT.blocks[1];
    const read = await readBytes(DEFLATED.subarray(0, second.offset + 11), 64);
    expect(read.messages).to.deep.equal([`${at(second.offset)}truncated in a block header: 11 of 20 bytes`]);
    expect(read.records).to.deep.equal(BLOCK(0));
  });

  it('reports an object truncated before its end and keeps every block', async () => {
    const read = await readBytes(DEFLATED.subarray(0, DEFLATED_LAYOUT.endOffset), 100);
    expect(read.messages).to.deep.equal([`${at(DEFLATED_LAYOUT.endOffset)}truncated: no end after 3 blocks`]);
    expect(read.records).to.deep.equal(RECORDS);
    expect(read.summary).to.deep.include({ blocks: 3, damaged: true, complete: false, trailer: undefined });
  });

  it('reports an object truncated inside its end', async () => {
    const read = await readBytes(DEFLATED.subarray(0, DEFLATED_LAYOUT.endOffset + 30), 100);
    expect(read.messages).to.deep.equal([`${at(DEFLATED_LAYOUT.endOffset)}truncated in the end: 30 of 36 bytes`]);
    expect(read.records).to.deep.equal(RECORDS);
  });

  it('skips a block with a flipped bit in its stored bytes and keeps the others', async () => {
    const second = PLAIN_LAYOUT.blocks[1];
    const bad = flipBit(PLAIN, second.offset + 20 + 50, 3);
    const raw = bad.subarray(second.offset + 20, second.offset + 20 + second.storedLen);
    const stated = PLAIN.readUInt32LE(second.offset + 16);
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    const read = await readBytes(bad, 128);
    expect(read.messages).to.deep.equal([`${at(second.offset)}block: raw_crc mismatch: block says ${hex(stated)}, its decoded bytes give ${hex(crc32(raw))}`]);
    expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
    expect(read.summary).to.deep.include({ blocks: 2, records: 8, damaged: true, complete: true });
  });

  it('skips a compressed block with a flipped bit, wherever the flip lands', async () => {
    const second = DEFLATED_LAYOUT.blocks[1];
    for (let byte = 0; byte < second.storedLen; byte += 7) {
      const read = await readBytes(flipBit(DEFLATED, second.offset + 20 + byte, byte % 8), 100);
      expect(read.damage.map((d) => d.offset), `flip at stored byte ${byte}`).to.deep.equal([second.offset]);
      expect(read.damage[0].problem).to.match(/^block: (raw_crc mismatch|deflate data|decompresses to)/);
      expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
      expect(read.summary).to.include({ complete: true });
    }
  });

  it('skips a block whose magic has a flipped bit and resynchronises on the next one', async () => {
    const second = PLAIN_LAYOUT.blocks[1];
    const read = await readBytes(flipBit(PLAIN, second.offset, 1), 50);
    expect(read.messages).to.deep.equal([`${at(second.offset)}expected a block or the end, found "@LK1"`]);
    expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
    expect(read.blockOffsets).to.deep.equal([PLAIN_LAYOUT.blocks[0].offset, PLAIN_LAYOUT.blocks[2].offset]);
  });

  it('skips a block with a flipped bit in its codec', async () => {
    const second = PLAIN_LAYOUT.blocks[1];
    const read = await readBytes(flipBit(PLAIN, second.offset + 4, 2), 50);
    expect(read.messages).to.deep.equal([`${at(second.offset)}block: unknown codec 4`]);
    expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
  });

  it('reports a flipped bit in the end as truncation, once, and keeps every block', async () => {
    const end = DEFLATED_LAYOUT.endOffset;
    const bad = flipBit(DEFLATED, end + 12, 0);
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    const read = await readBytes(bad, 100);
    expect(read.messages).to.deep.equal([
      `${at(end)}invalid end, the object counts as truncated: end_crc mismatch: end says ${hex(bad.readUInt32LE(end + 32))}, its bytes give ${hex(crc32(bad.subarray(end, end + 32)))}`,
    ]);
    expect(read.records).to.deep.equal(RECORDS);
    expect(read.summary).to.deep.include({ blocks: 3, damaged: true, complete: false, trailer: undefined });
  });

  it('refuses a header with a flipped bit (bad CRC) and reads nothing else', async () => {
    const read = await readBytes(flipBit(PLAIN, 12, 5));
    expect(read.messages).to.have.length(1);
    expect(read.messages[0]).to.match(/^object obj\.ctap at offset 0: header_crc mismatch: header says 0x[0-9a-f]{8}, its bytes give 0x[0-9a-f]{8}$/);
    expect(read.events.map((e) => e.kind)).to.deep.equal(['damage', 'end']);
  });

  it('refuses what is not a CTAP object', async () => {
    const read = await readBytes(Buffer.from('GIF89a and the rest of a picture'));
    expect(read.messages).to.deep.equal([`${at(0)}not a CTAP object: starts with "GIF8", expected "CTAP"`]);
    expect(read.events.map((e) => e.kind)).to.deep.equal(['damage', 'end']);
  });

  it('refuses a newer major version by name and reads nothing else', async () => {
    const v2 = Buffer.from(PLAIN);
    v2.writeUInt16LE(2, 4);
    const crcAt = PLAIN_LAYOUT.headerBytes - 4;
    for (const object of [v2, withU32(v2, crcAt, crc32(v2.subarray(0, crcAt)))]) {
      const read = await readBytes(object);
      expect(read.messages).to.deep.equal([`${at(0)}CTAP version 2 is newer than this reader (1)`]);
      expect(read.events.map((e) => e.kind)).to.deep.equal(['damage', 'end']);
      expect(read.summary).to.deep.include({ header: undefined, records: 0, complete: false });
    }
  });

  describe('lengths that lie', () => {
    it('keeps a compressed block whose stored_len is too long, and goes on where its data ends', async () => {
      const second = DEFLATED_LAYOUT.blocks[1];
      const bad = withU32(DEFLATED, second.offset + 8, second.storedLen + 9);
      const read = await readBytes(bad, 100);
      expect(read.messages).to.deep.equal([`${at(second.offset)}block: stored_len ${second.storedLen + 9} but its compressed data ends after ${second.storedLen} bytes`]);
      expect(read.records).to.deep.equal(RECORDS);
      expect(read.summary).to.deep.include({ blocks: 3, complete: true });
    });

    it('keeps a compressed block whose stored_len runs past the end of the object', async () => {
      const last = DEFLATED_LAYOUT.blocks[2];
      const lie = last.storedLen + 36 + 20;
      const read = await readBytes(withU32(DEFLATED, last.offset + 8, lie), 100);
      expect(read.messages).to.deep.equal([`${at(last.offset)}block: stored_len ${lie} but its compressed data ends after ${last.storedLen} bytes`]);
      expect(read.records).to.deep.equal(RECORDS);
      expect(read.summary).to.include({ complete: true });
    });

    it('skips a compressed block whose stored_len is too short', async () => {
      const second = DEFLATED_LAYOUT.blocks[1];
      const bad = withU32(DEFLATED, second.offset + 8, second.storedLen - 5);
      const read = await readBytes(bad, 100);
      expect(read.messages).to.deep.equal([`${at(second.offset)}block: deflate data ends before its stream does (stored_len ${second.storedLen - 5})`]);
      expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
      expect(read.summary).to.deep.include({ blocks: 2, complete: true });
    });

    it('skips a gzip block whose stored_len is too long', async () => {
      const object = threeBlocks(BlockCodec.Gzip);
      const second = layoutOf(object).blocks[1];
      const read = await readBytes(withU32(object, second.offset + 8, second.storedLen + 9), 100);
      expect(read.damage.map((d) => d.offset)).to.deep.equal([second.offset]);
      expect(read.damage[0].problem).to.match(/^block: gzip data does not decompress: /);
      expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
    });

    it('skips an uncompressed block whose stored_len differs from raw_len', async () => {
      const second = PLAIN_LAYOUT.blocks[1];
      const read = await readBytes(withU32(PLAIN, second.offset + 8, second.storedLen - 1), 100);
      expect(read.messages).to.deep.equal([`${at(second.offset)}block: stored_len ${second.storedLen - 1} differs from raw_len ${second.rawLen} in an uncompressed block`]);
      expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
    });

    it('skips a block whose raw_len does not match what it decompresses to', async () => {
      const second = DEFLATED_LAYOUT.blocks[1];
      const read = await readBytes(withU32(DEFLATED, second.offset + 12, second.rawLen + 1), 100);
      expect(read.messages).to.deep.equal([`${at(second.offset)}block: decompresses to ${second.rawLen} bytes but raw_len is ${second.rawLen + 1}`]);
      const shorter = await readBytes(withU32(DEFLATED, second.offset + 12, second.rawLen - 1), 100);
      expect(shorter.messages).to.deep.equal([`${at(second.offset)}block: decompresses to more than raw_len ${second.rawLen - 1} bytes`]);
      expect(shorter.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
    });

    it('refuses a raw_len over 8 MiB before allocating anything for it', async () => {
      const second = DEFLATED_LAYOUT.blocks[1];
      for (const rawLen of [0xffffffff, 8 * 1024 * 1024 + 1]) {
        const bad = withU32(DEFLATED, second.offset + 12, rawLen);
        const before = process.memoryUsage().arrayBuffers;
        let grown = -1;
        // Measured while the reader is suspended on the damage it reports.
        for await (const event of readCtapObject('obj.ctap', chunked(bad, 100))) {
          if (event.kind === 'damage') grown = process.memoryUsage().arrayBuffers - before;
        }
        expect(grown, 'bytes allocated by the time the damage is reported').to.be.within(0, 1024 * 1024);
        const read = await readBytes(bad, 100);
        expect(read.messages).to.deep.equal([`${at(second.offset)}block: raw_len ${rawLen} is over the 8388608-byte limit`]);
        expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(2)]);
      }
    });

    it('stops a block at a record whose body_len runs past it, keeping the records before', async () => {
      const records = [...BLOCK(0), ...BLOCK(1)];
      const raw = Buffer.concat(records.map(encodeRecord));
      raw.writeUInt32LE(10_000, 2 * RECORD_BYTES + 1);
      const object = assemble([raw], records.length);
      const read = await readBytes(object);
      expect(read.messages).to.deep.equal([
        `${at(layoutOf(object).blocks[0].offset)}record 2 at byte ${2 * RECORD_BYTES} of the decoded block: type 2 body_len 10000 runs past the end of the block (${raw.length - 2 * RECORD_BYTES - 5} bytes left)`,
      ]);
      expect(read.records).to.deep.equal(records.slice(0, 2));
    });

    it('drops a record whose body is too short for its type, keeping the records around it', async () => {
      const records = BLOCK(0);
      const short = Buffer.from([RecordType.FlowClose, 20, 0, 0, 0, ...Buffer.alloc(20)]);
      const raw = Buffer.concat([encodeRecord(records[0]), short, ...records.slice(1).map(encodeRecord)]);
      const object = assemble([raw], 5);
      const read = await readBytes(object);
      expect(read.messages).to.deep.equal([`${at(layoutOf(object).blocks[0].offset)}record 1 at byte ${RECORD_BYTES} of the decoded block: FLOW_CLOSE body of 20 bytes is too short (at least 41)`]);
      expect(read.records).to.deep.equal(records);
    });
  });

  it('skips unknown record types and TLV tags without a word', async () => {
    const open = everyRecord()[0];
    const encoded = encodeRecord(open);
    // Append tag 42 (unknown, 3 bytes of value) between known tags: after the fixed part, before the first TLV.
    const fixed = 5 + 16 + 8 + 2 + 2 * (4 + 2);
    const unknownTlv = Buffer.from([42, 3, 0, 1, 2, 3]);
    const withTlv = Buffer.concat([encoded.subarray(0, fixed), unknownTlv, encoded.subarray(fixed)]);
    withTlv.writeUInt32LE(withTlv.length - 5, 1);
    const unknownRecord = Buffer.from([200, 4, 0, 0, 0, 9, 9, 9, 9]);
    const data = BLOCK(0)[0];
    const raw = Buffer.concat([unknownRecord, withTlv, encodeRecord(data), unknownRecord]);
    for (const codec of [BlockCodec.None, BlockCodec.Deflate]) {
      const read = await readBytes(assemble([raw], 4, codec), 16);
      expect(read.damage).to.deep.equal([]);
      expect(read.records).to.deep.equal([open, data]);
      expect(read.summary).to.deep.include({ records: 2, damaged: false, complete: true });
    }
  });

  it('reports an end whose counts disagree with the blocks read', async () => {
    const raw = Buffer.concat(BLOCK(0).map(encodeRecord));
    const object = Buffer.concat([encodeHeader(HEADER), encodeBlock(raw, BlockCodec.Deflate), encodeEnd({ blockCount: 1, recordCount: 5n, firstNs: 0n, lastNs: 0n })]);
    const read = await readBytes(object);
    expect(read.messages).to.deep.equal([`${at(layoutOf(object).endOffset)}end says 5 records, 4 were read`]);
    expect(read.records).to.deep.equal(BLOCK(0));
    expect(read.summary).to.deep.include({ complete: true, damaged: true });
  });

  it('reports bytes after the end', async () => {
    const read = await readBytes(Buffer.concat([PLAIN, Buffer.from('junk')]));
    expect(read.messages).to.deep.equal([`${at(PLAIN.length)}bytes follow the end`]);
    expect(read.records).to.deep.equal(RECORDS);
  });

  it('reports a source that fails midway as damage, keeping what came before', async () => {
    const cut = PLAIN_LAYOUT.blocks[1].offset + 300;
    async function* failing() {
      yield* chunked(PLAIN.subarray(0, cut), 100);
      throw new Error('connection reset by peer');
    }
    const read = await readAll('obj.ctap', failing());
    expect(read.messages).to.deep.equal([`${at(cut)}read failed: connection reset by peer`]);
    expect(read.records).to.deep.equal(BLOCK(0));
    expect(read.summary).to.deep.include({ damaged: true, complete: false, blocks: 1 });
  });

  it('resynchronises past a fake "BLK1" whose header does not check out', async () => {
    const raw = Buffer.concat(BLOCK(1).map(encodeRecord));
    const fake = Buffer.from('BLK1'); // followed by a block header of garbage
    const object = Buffer.concat([
      encodeHeader(HEADER),
      encodeBlock(Buffer.concat(BLOCK(0).map(encodeRecord)), BlockCodec.Deflate),
      Buffer.from('xxBLK1'), fake, Buffer.alloc(30, 0xff),
      encodeBlock(raw, BlockCodec.Deflate),
      encodeEnd({ blockCount: 2, recordCount: 8n, firstNs: 0n, lastNs: 0n }),
    ]);
    const garbageAt = layoutOf(Buffer.concat([encodeHeader(HEADER), encodeBlock(Buffer.concat(BLOCK(0).map(encodeRecord)), BlockCodec.Deflate), encodeEnd({ blockCount: 0, recordCount: 0n, firstNs: 0n, lastNs: 0n })])).endOffset;
    const read = await readBytes(object, 5);
    expect(read.messages).to.deep.equal([`${at(garbageAt)}expected a block or the end, found "xxBL"`]);
    expect(read.records).to.deep.equal([...BLOCK(0), ...BLOCK(1)]);
    expect(read.summary).to.include({ complete: true });
  });

  it('reports damage, never throws, whatever single bit is flipped', async () => {
    const object = threeBlocks(BlockCodec.Deflate);
    // A block header's 3 reserved bytes mean nothing to v1 and no CRC covers them: a flip there is harmless.
    let damaged = 0;
    const reserved = new Set(layoutOf(object).blocks.flatMap((b) => [b.offset + 5, b.offset + 6, b.offset + 7]));
    for (let offset = 0; offset < object.length; offset += 3) {
      const read = await readBytes(flipBit(object, offset, offset % 8), 97);
      if (reserved.has(offset)) expect(read.damage, `flip at ${offset}`).to.deep.equal([]);
      // A flip inside compressed data may still inflate to the very same bytes (CRC and all): then nothing is lost.
      if (!read.summary.damaged) expect(read.records, `undetected flip at ${offset}`).to.deep.equal(RECORDS);
      else for (const record of read.records) expect(RECORDS, `flip at ${offset}`).to.deep.include(record);
      if (read.summary.damaged) damaged++;
    }
    expect(damaged).to.be.greaterThan(object.length / 3 - reserved.size - 5);
  });
});

// The writer never produces an empty compressed block; the reader still takes one.
describe('format/reader on an empty block', () => {
  it('reads a deflate block of zero bytes as a block with no records', async () => {
    const empty = deflateRawSync(Buffer.alloc(0));
    const header = Buffer.alloc(20);
    header.write('BLK1', 0, 'latin1');
    header[4] = BlockCodec.Deflate;
    header.writeUInt32LE(empty.length, 8);
    header.writeUInt32LE(crc32(Buffer.alloc(0)), 16);
    const object = Buffer.concat([encodeHeader(HEADER), header, empty, encodeEnd({ blockCount: 1, recordCount: 0n, firstNs: 0n, lastNs: 0n })]);
    const read = await readBytes(object);
    expect(read.damage).to.deep.equal([]);
    expect(read.summary).to.deep.include({ blocks: 1, records: 0, complete: true });
  });
});
