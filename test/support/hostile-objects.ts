/**
 * Crafted CTAP objects that a hostile or broken gateway could write: the cases of
 * the hostile-input suite (issue 13). Each builder returns the whole object and the
 * key it goes under, so a test drops it into a bucket beside good traffic. Builders
 * keep what they hold small (repeated text deflates to almost nothing) so that the
 * stitcher, not the test, is what gets measured.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { encodeEnd } from '../../stitcher/format/end.js';
import { encodeHeader } from '../../stitcher/format/header.js';
import { objectKey } from '../../stitcher/format/object-key.js';
import { BlockCodec, ObjectKind, RecordType, type TlsKeysRecord } from '../../stitcher/format/records.js';
import { CtapObjectWriter } from '../../stitcher/format/writer.js';
import { MAX_RAW_BYTES } from '../../stitcher/format/layout.js';

export interface CraftedObject {
  /** Where it goes in the bucket (under the store's root). */
  readonly key: string;
  readonly bytes: Buffer;
  /** What it holds, for the test's assertions. */
  readonly lines: number;
}

export interface CraftedPlace {
  /** The gateway it claims to come from: one of its own, so its <seq> starts at 0. */
  readonly gateway: string;
  /** When it was started (ns since the epoch): the hour folder it lands in. */
  readonly createdNs: bigint;
  /** @default 0n */
  readonly seq?: bigint;
  /** Prefix of key objects. @default '' */
  readonly keyRoot?: string;
}

const ZERO_FLOW = Buffer.alloc(16);
/** Record header (5) + TLS_KEYS fixed body (24): what a block holds besides the lines. */
const TLS_KEYS_OVERHEAD = 29;

/**
 * One TLS_KEYS record of `lines` malformed lines (`x`, two bytes each with the
 * newline): a million deflate to about 2 KB, four million fill the largest block.
 */
export function malformedKeyLines(place: CraftedPlace, lines: number): CraftedObject {
  const text = 'x\n'.repeat(lines);
  if (text.length + TLS_KEYS_OVERHEAD > MAX_RAW_BYTES) throw new RangeError(`${lines} lines do not fit one ${MAX_RAW_BYTES}-byte block`);
  const writer = new CtapObjectWriter(header(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  writer.add(keysRecord(place.createdNs, text));
  return { key: keyOf(place), bytes: writer.finish(), lines };
}

/**
 * A key flood: `lines` valid, distinct TLS 1.2 lines (`CLIENT_RANDOM`, each its own
 * client random, a 48-byte master secret), in TLS_KEYS records that fill the
 * largest blocks. Client randoms count up from `firstIndex`, so the object
 * deflates well and several floods can be told apart.
 */
export function keyFlood(place: CraftedPlace, lines: number, firstIndex = 0): CraftedObject {
  const writer = new CtapObjectWriter(header(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  const secret = 'ab'.repeat(48);
  const lineBytes = floodLine(0, secret).length;
  const perRecord = Math.floor((MAX_RAW_BYTES - TLS_KEYS_OVERHEAD) / lineBytes);
  for (let first = firstIndex; first < firstIndex + lines; first += perRecord) {
    const parts: string[] = [];
    for (let i = first; i < Math.min(firstIndex + lines, first + perRecord); i++) parts.push(floodLine(i, secret));
    writer.add(keysRecord(place.createdNs, parts.join('')));
  }
  return { key: keyOf(place), bytes: writer.finish(), lines };
}

/** The flood's line number `index` (its client random is the index in hex, zero-padded). */
export function floodLine(index: number, secret = 'ab'.repeat(48)): string {
  return `CLIENT_RANDOM ${index.toString(16).padStart(64, '0')} ${secret}\n`;
}

function keysRecord(tsNs: bigint, lines: string): TlsKeysRecord {
  return { type: RecordType.TlsKeys, tsNs, flowId: ZERO_FLOW, lines };
}

function header(place: CraftedPlace): { kind: ObjectKind; gateway: string; seq: bigint; createdNs: bigint } {
  return { kind: ObjectKind.Keys, gateway: place.gateway, seq: place.seq ?? 0n, createdNs: place.createdNs };
}

function keyOf(place: CraftedPlace): string {
  return objectKey(place.keyRoot ?? '', ObjectKind.Keys, place.gateway, place.seq ?? 0n, place.createdNs);
}

// Traffic objects a hostile or broken gateway could write (issue 13, the flow cases).

/** A traffic object's header at `place`. */
function trafficHeader(place: CraftedPlace): { kind: ObjectKind; gateway: string; seq: bigint; createdNs: bigint } {
  return { kind: ObjectKind.Traffic, gateway: place.gateway, seq: place.seq ?? 0n, createdNs: place.createdNs };
}

function trafficKey(place: CraftedPlace): string {
  return objectKey('', ObjectKind.Traffic, place.gateway, place.seq ?? 0n, place.createdNs);
}

/** A flow id that counts up from `n` (distinct per record, deflates well). */
function countedFlowId(n: number): Buffer {
  const id = Buffer.alloc(16);
  id.writeUInt32BE(0x0bad0000, 0);
  id.writeUInt32BE(n, 12);
  return id;
}

/** `records` DATA records of `bytes` zeros each, every one for a flow never opened (held until the object ends, or the budget says). */
export function earlyDataFlood(place: CraftedPlace, records: number, bytes: number): CraftedObject {
  const writer = new CtapObjectWriter(trafficHeader(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  const payload = Buffer.alloc(bytes);
  for (let i = 0; i < records; i++) {
    writer.add({ type: RecordType.Data, flowId: countedFlowId(i), tsNs: place.createdNs, dir: 0, offset: 0n, payload });
  }
  return { key: trafficKey(place), bytes: writer.finish(), lines: records };
}

/** `count` FLOW_OPEN records never closed. */
export function openFlood(place: CraftedPlace, count: number): CraftedObject {
  const writer = new CtapObjectWriter(trafficHeader(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  for (let i = 0; i < count; i++) {
    writer.add({
      type: RecordType.FlowOpen, flowId: countedFlowId(i), tsNs: place.createdNs + BigInt(i), ipVersion: 4, l4: 6,
      clientIp: Buffer.from([10, 9, (i >> 8) & 255, i & 255]), clientPort: 1024 + (i % 60000), serverIp: Buffer.from([192, 0, 2, 1]), serverPort: 443, tags: {},
    });
  }
  return { key: trafficKey(place), bytes: writer.finish(), lines: count };
}

/** One flow with `count` one-byte GAP records in descending offset order, then its close. */
export function descendingGaps(place: CraftedPlace, count: number): CraftedObject {
  const writer = new CtapObjectWriter(trafficHeader(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  const flowId = countedFlowId(0x6a9);
  writer.add({
    type: RecordType.FlowOpen, flowId, tsNs: place.createdNs, ipVersion: 4, l4: 6,
    clientIp: Buffer.from([10, 9, 9, 9]), clientPort: 40000, serverIp: Buffer.from([192, 0, 2, 2]), serverPort: 80, tags: {},
  });
  for (let i = count - 1; i >= 0; i--) {
    writer.add({ type: RecordType.Gap, flowId, tsNs: place.createdNs + 1n, dir: 1, offset: BigInt(i * 2), length: 1n });
  }
  writer.add({ type: RecordType.FlowClose, flowId, tsNs: place.createdNs + 2n, reason: 1, bytesC2s: 0n, bytesS2c: BigInt(count * 2) });
  return { key: trafficKey(place), bytes: writer.finish(), lines: count };
}

/** A flow whose DATA, GAP and FLOW_CLOSE carry offsets and lengths near 2^64. */
export function offsetsNear2p64(place: CraftedPlace): CraftedObject {
  const writer = new CtapObjectWriter(trafficHeader(place), { codec: BlockCodec.Deflate });
  const flowId = countedFlowId(0x2064);
  const top = 2n ** 64n - 1n;
  writer.add({
    type: RecordType.FlowOpen, flowId, tsNs: place.createdNs, ipVersion: 4, l4: 6,
    clientIp: Buffer.from([10, 9, 9, 10]), clientPort: 40001, serverIp: Buffer.from([192, 0, 2, 3]), serverPort: 80, tags: {},
  });
  writer.add({ type: RecordType.Data, flowId, tsNs: place.createdNs + 1n, dir: 0, offset: top - 10n, payload: Buffer.alloc(10, 1) });
  writer.add({ type: RecordType.Gap, flowId, tsNs: place.createdNs + 1n, dir: 1, offset: 5n, length: top - 5n });
  writer.add({ type: RecordType.FlowClose, flowId, tsNs: place.createdNs + 2n, reason: 0, bytesC2s: top, bytesS2c: top });
  return { key: trafficKey(place), bytes: writer.finish(), lines: 3 };
}

/**
 * A deflate bomb at the largest block size: blocks whose stored bytes inflate to
 * `inflatedBytes` of zeros though raw_len says 8 MiB (the reader must stop at
 * raw_len), then a good end.
 */
export function deflateBomb(place: CraftedPlace, blocks: number, inflatedBytes: number): CraftedObject {
  const stored = deflateRawSync(Buffer.alloc(inflatedBytes), { level: 9 });
  const parts = [encodeHeader(trafficHeader(place))];
  for (let i = 0; i < blocks; i++) {
    const head = Buffer.alloc(20);
    head.write('BLK1', 0, 'latin1');
    head.writeUInt8(BlockCodec.Deflate, 4);
    head.writeUInt32LE(stored.length, 8);
    head.writeUInt32LE(MAX_RAW_BYTES, 12);
    head.writeUInt32LE(crc32(Buffer.alloc(MAX_RAW_BYTES)), 16);
    parts.push(head, stored);
  }
  parts.push(encodeEnd({ blockCount: blocks, recordCount: 0n, firstNs: place.createdNs, lastNs: place.createdNs }));
  return { key: trafficKey(place), bytes: Buffer.concat(parts), lines: blocks };
}
