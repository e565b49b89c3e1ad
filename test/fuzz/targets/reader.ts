/**
 * Fuzz target: the CTAP reader over arbitrary bytes. Bad bytes never throw (they
 * are damage events); events come in the documented order, exactly one `end` last;
 * the summary accounts for what was handed on; no block holds more than the
 * format's 8 MiB. The input is handed over in chunks whose sizes the input's
 * last byte picks, so framing across chunk edges is exercised too.
 */
import fc from 'fast-check';
import { readCtapObject } from '../../../stitcher/format/reader.js';
import { MAX_RAW_BYTES, RECORD_HEADER_BYTES } from '../../../stitcher/format/layout.js';
import { BlockCodec, ObjectKind, RecordType, type CtapRecord } from '../../../stitcher/format/records.js';
import { encodeCtapObject } from '../../../stitcher/format/writer.js';
import type { FuzzTarget } from '../harness.js';

async function* chunks(data: Buffer): AsyncGenerator<Buffer> {
  const size = 1 + (data.length === 0 ? 0 : data[data.length - 1]! * 7);
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

export async function fuzz(data: Buffer): Promise<void> {
  let ended = false;
  let blocks = 0;
  let records = 0;
  let damaged = false;
  let index = 0;
  for await (const event of readCtapObject('fuzz/0.ctap', chunks(data))) {
    if (ended) throw new Error(`event ${event.kind} after the end`);
    if (event.kind === 'header' && index !== 0) throw new Error('header is not the first event');
    if (event.kind === 'records') {
      blocks++;
      records += event.records.length;
      let bytes = 0;
      for (const record of event.records) bytes += RECORD_HEADER_BYTES + recordBytes(record);
      if (bytes > MAX_RAW_BYTES) throw new Error(`a block handed on ${bytes} bytes of records, over the 8 MiB block limit`);
    }
    if (event.kind === 'damage') {
      damaged = true;
      if (event.damage.object !== 'fuzz/0.ctap') throw new Error('damage does not name the object');
      if (event.damage.problem === '') throw new Error('damage without a problem');
    }
    if (event.kind === 'end') {
      ended = true;
      const s = event.summary;
      if (s.blocks !== blocks || s.records !== records) throw new Error(`summary says ${s.blocks} blocks, ${s.records} records; handed on ${blocks}, ${records}`);
      if (s.damaged !== damaged) throw new Error(`summary damaged=${s.damaged} after ${damaged ? 'some' : 'no'} damage events`);
      if (s.complete && s.trailer === undefined) throw new Error('complete without a trailer');
    }
    index++;
  }
  if (!ended) throw new Error('no end event');
}

/** A lower bound of the record's body size: enough to check the block bound. */
function recordBytes(record: CtapRecord): number {
  switch (record.type) {
    case RecordType.Data:
      return 33 + record.payload.length;
    case RecordType.TlsKeys:
      return 24 + record.lines.length;
    default:
      return 16;
  }
}

/** Whole objects from the writer: small records of each type, any codec. */
export const structured: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom(BlockCodec.None, BlockCodec.Deflate, BlockCodec.Gzip),
  fc.array(fc.tuple(fc.nat({ max: 3 }), fc.uint8Array({ maxLength: 64 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 12 }),
  fc.integer({ min: 16, max: 512 }),
).map(([codec, specs, blockBytes]) => {
  const flowId = Buffer.alloc(16, 7);
  const records: CtapRecord[] = specs.map(([kind, bytes, big], i): CtapRecord => {
    const tsNs = BigInt(i) * 1000n;
    if (kind === 0) return { type: RecordType.Data, flowId, tsNs, dir: (i % 2) as 0 | 1, offset: big, payload: Buffer.from(bytes) };
    if (kind === 1) return { type: RecordType.Gap, flowId, tsNs, dir: 0, offset: big, length: BigInt(bytes.length) };
    if (kind === 2) return { type: RecordType.FlowClose, flowId, tsNs, reason: 0, bytesC2s: big, bytesS2c: 0n };
    return {
      type: RecordType.FlowOpen, flowId, tsNs, ipVersion: 4, l4: 6, clientIp: Buffer.from([10, 0, 0, 1]), clientPort: 5000,
      serverIp: Buffer.from([10, 0, 0, 2]), serverPort: 80, tags: {},
    };
  });
  return encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-fuzz', seq: 1n, createdNs: 1n }, records, { codec, blockBytes });
});

export const target: FuzzTarget = { name: 'reader', fuzz, structured, maxLength: 4096 };
