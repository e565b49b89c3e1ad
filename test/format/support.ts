/** Shared by the format suites: sample records, chunked sources, and a layout walker written from the spec, not from the codec. */
import { damageMessage, type ObjectDamage } from '../../stitcher/format/damage.js';
import type { ObjectSummary } from '../../stitcher/format/read-events.js';
import { readCtapObject, type CtapReadEvent, type ReaderOptions } from '../../stitcher/format/reader.js';
import { CloseReason, Direction, ObjectKind, RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import type { HeaderFields } from '../../stitcher/format/writer.js';

export const HEADER: HeaderFields = { kind: ObjectKind.Traffic, gateway: 'gw-1.eu', seq: 42n, createdNs: 1_764_084_000_123_456_789n };

export function flowId(n: number): Buffer {
  const id = Buffer.alloc(16);
  id.writeUInt32BE(n, 12);
  id[0] = 0xf0;
  return id;
}

/** One of every record type, IPv4 and IPv6, every tag, edge values. */
export function everyRecord(): CtapRecord[] {
  return [
    {
      type: RecordType.FlowOpen,
      flowId: flowId(1),
      tsNs: 1_764_084_000_000_000_001n,
      ipVersion: 4,
      l4: 6,
      clientIp: Buffer.from([10, 0, 0, 7]),
      clientPort: 51234,
      serverIp: Buffer.from([93, 184, 216, 34]),
      serverPort: 443,
      tags: {
        user: 'zoë@example.com',
        serverName: 'example.com',
        application: 'web',
        policy: 'allow-all',
        clientMss: 1460,
        serverMss: 65535,
        site: 'fra1',
        sourceCountry: 'DE',
      },
    },
    {
      type: RecordType.FlowOpen,
      flowId: flowId(2),
      tsNs: 1_764_084_000_000_000_002n,
      ipVersion: 6,
      l4: 6,
      clientIp: Buffer.from('20010db8000000000000000000000001', 'hex'),
      clientPort: 0,
      serverIp: Buffer.from('20010db80000000000000000000000ff', 'hex'),
      serverPort: 65535,
      tags: {},
    },
    { type: RecordType.Data, flowId: flowId(1), tsNs: 1_764_084_000_000_000_003n, dir: Direction.ClientToServer, offset: 0n, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') },
    { type: RecordType.Data, flowId: flowId(1), tsNs: 1_764_084_000_000_000_004n, dir: Direction.ServerToClient, offset: (1n << 64n) - 1n, payload: Buffer.alloc(0) },
    { type: RecordType.Gap, flowId: flowId(1), tsNs: 1_764_084_000_000_000_005n, dir: Direction.ServerToClient, offset: 100n, length: 1n << 40n },
    { type: RecordType.FlowClose, flowId: flowId(1), tsNs: 1_764_084_000_000_000_006n, reason: CloseReason.RstFromServer, bytesC2s: 18n, bytesS2c: (1n << 40n) + 100n },
    { type: RecordType.TlsKeys, tsNs: 1_764_084_000_000_000_000n, flowId: Buffer.alloc(16), lines: 'CLIENT_RANDOM 00ff 1122\nSERVER_TRAFFIC_SECRET_0 00ff 3344\n' },
  ];
}

/** `count` DATA records of `size` bytes each, payload bytes derived from the index so that each is different. */
export function dataRecords(count: number, size: number, firstTs = 1_000n): CtapRecord[] {
  const records: CtapRecord[] = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(size, i % 251);
    payload.writeUInt32BE(i, 0);
    records.push({ type: RecordType.Data, flowId: flowId(i % 3), tsNs: firstTs + BigInt(i), dir: i % 2, offset: BigInt(i * size), payload });
  }
  return records;
}

/** The bytes as a stream of `chunkSize` chunks (views, as a network stream would give). */
export async function* chunked(bytes: Buffer, chunkSize: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
}

export interface ReadResult {
  readonly events: CtapReadEvent[];
  readonly records: CtapRecord[];
  readonly damage: ObjectDamage[];
  /** damageMessage of each damage, in order. */
  readonly messages: string[];
  readonly summary: ObjectSummary;
  /** Offsets of the blocks that were handed on. */
  readonly blockOffsets: number[];
}

export async function readAll(name: string, source: AsyncIterable<Buffer>, options?: ReaderOptions): Promise<ReadResult> {
  const events: CtapReadEvent[] = [];
  for await (const event of readCtapObject(name, source, options)) events.push(event);
  const ends = events.filter((e) => e.kind === 'end');
  if (ends.length !== 1 || events[events.length - 1].kind !== 'end') throw new Error(`expected exactly one end event, last; got ${events.map((e) => e.kind).join(',')}`);
  const damage = events.flatMap((e) => (e.kind === 'damage' ? [e.damage] : []));
  return {
    events,
    records: events.flatMap((e) => (e.kind === 'records' ? e.records : [])),
    damage,
    messages: damage.map(damageMessage),
    summary: ends[0].kind === 'end' ? ends[0].summary : (undefined as never),
    blockOffsets: events.flatMap((e) => (e.kind === 'records' ? [e.offset] : [])),
  };
}

export function readBytes(bytes: Buffer, chunkSize = 4096, options?: ReaderOptions): Promise<ReadResult> {
  return readAll('obj.ctap', chunked(bytes, chunkSize), options);
}

export interface Layout {
  readonly headerBytes: number;
  readonly blocks: { offset: number; codec: number; storedLen: number; rawLen: number }[];
  readonly endOffset: number;
}

/** Walks a sound object per docs/ctap-format.md (header 29 + gateway, block header 20, end 36). */
export function layoutOf(object: Buffer): Layout {
  const headerBytes = 29 + object[8];
  const blocks: Layout['blocks'] = [];
  let at = headerBytes;
  while (object.toString('latin1', at, at + 4) === 'BLK1') {
    const storedLen = object.readUInt32LE(at + 8);
    blocks.push({ offset: at, codec: object[at + 4], storedLen, rawLen: object.readUInt32LE(at + 12) });
    at += 20 + storedLen;
  }
  if (object.toString('latin1', at, at + 4) !== 'END1') throw new Error(`no END1 at ${at}`);
  return { headerBytes, blocks, endOffset: at };
}

/** A copy with one bit flipped. */
export function flipBit(object: Buffer, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(object);
  copy[offset] ^= 1 << bit;
  return copy;
}

/** A copy with a u32 (little-endian) replaced. */
export function withU32(object: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(object);
  copy.writeUInt32LE(value, offset);
  return copy;
}
