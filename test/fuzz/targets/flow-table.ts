/**
 * Fuzz target: the flow table over decoded records. The first input byte cuts
 * the records (decoded from the rest as a block) into blocks and objects; then
 * every flow is closed. The table never throws, and what it hands on keeps the
 * contract of flow/events.ts: one open per flow before its events, each
 * direction contiguous (data or hole at the next offset), one close last and
 * nothing after it, every flow closed at the end, and its counters agree with
 * what was handed on.
 */
import fc from 'fast-check';
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../../../stitcher/flow/events.js';
import { FlowTable } from '../../../stitcher/flow/flow-table.js';
import { decodeRecords } from '../../../stitcher/format/record-decoder.js';
import { encodeRecord } from '../../../stitcher/format/record-encoder.js';
import { RecordType, type CtapRecord } from '../../../stitcher/format/records.js';
import type { FuzzTarget } from '../harness.js';

const GATEWAY = 'gw-fuzz';

interface Seen {
  closed: boolean;
  readonly next: [bigint, bigint];
}

class CheckingConsumer implements FlowConsumer {
  readonly flows = new Map<string, Seen>();
  bytesOut = 0;

  openFlow(flow: FlowIdentity): void {
    const seen = this.flows.get(flow.key);
    if (seen !== undefined && !seen.closed) throw new Error(`flow ${flow.key} opened twice`);
    this.flows.set(flow.key, { closed: false, next: [0n, 0n] });
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const seen = this.flows.get(flow.key);
    if (seen === undefined) throw new Error(`${event.kind} for flow ${flow.key} before its open`);
    if (seen.closed) throw new Error(`${event.kind} for flow ${flow.key} after its close`);
    if (event.kind === 'close') {
      seen.closed = true;
      return;
    }
    const expected = seen.next[event.dir];
    if (event.offset !== expected) throw new Error(`${event.kind} at offset ${event.offset} of direction ${event.dir}, expected ${expected}`);
    if (event.kind === 'data') {
      if (event.payload.length === 0) throw new Error('empty data event');
      seen.next[event.dir] = expected + BigInt(event.payload.length);
      this.bytesOut += event.payload.length;
    } else {
      if (event.length <= 0n) throw new Error(`hole of ${event.length} bytes`);
      seen.next[event.dir] = expected + event.length;
    }
  }
}

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const perBlock = 1 + (data[0]! & 0x0f);
  const blocksPerObject = 1 + (data[0]! >> 4);
  const { records } = decodeRecords(data.subarray(1));
  const consumer = new CheckingConsumer();
  const table = new FlowTable(consumer, { maxFlowBufferBytes: 4096, maxTotalBufferBytes: 16384 });
  let blocks = 0;
  for (let at = 0; at < records.length; at += perBlock) {
    table.ingestBlock(GATEWAY, records.slice(at, at + perBlock));
    if (++blocks % blocksPerObject === 0) table.endOfObject(GATEWAY);
  }
  table.endOfObject(GATEWAY);
  table.closeAll();
  const s = table.stats;
  for (const [key, seen] of consumer.flows) if (!seen.closed) throw new Error(`flow ${key} never closed`);
  if (s.flowsOpen !== 0) throw new Error(`${s.flowsOpen} flows open after closeAll`);
  if (s.flowsOpened !== s.flowsClosed) throw new Error(`${s.flowsOpened} opened, ${s.flowsClosed} closed`);
  if (s.bufferedBytes !== 0) throw new Error(`${s.bufferedBytes} bytes still buffered after closeAll`);
  if (s.heldItems !== 0) throw new Error(`${s.heldItems} items still held after closeAll`);
  if (s.exported !== consumer.bytesOut) throw new Error(`stats say ${s.exported} bytes exported, ${consumer.bytesOut} handed on`);
  const accounted = s.exported + s.duplicate + s.trimmed + s.late;
  if (s.tapped !== accounted) throw new Error(`${s.tapped} bytes tapped, ${accounted} accounted for (exported + duplicate + trimmed + late)`);
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Records of three flows, in any order: opens, data, gaps and closes at small
 * offsets and, with `nearU64`, some near 2^64.
 */
export function flowRecords(options: { readonly nearU64: boolean }): fc.Arbitrary<Uint8Array> {
  const small = fc.bigInt({ min: 0n, max: 3000n });
  const offset = options.nearU64 ? fc.oneof(small, fc.bigInt({ min: U64_MAX - 3000n, max: U64_MAX })) : small;
  return fc.tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 9 }), fc.nat({ max: 1 }), offset, fc.uint8Array({ maxLength: 300 }), fc.bigInt({ min: 0n, max: 1000n })), { maxLength: 40 }),
  ).map(([control, specs]) => encodeFlowRecords(control, specs));
}

type RecordSpec = [flow: number, kind: number, dir: number, at: bigint, bytes: Uint8Array, ts: bigint];

function encodeFlowRecords(control: number, specs: readonly RecordSpec[]): Buffer {
  const records = specs.map(([flow, kind, dir, at, bytes, ts]): CtapRecord => {
    const flowId = Buffer.alloc(16, flow + 1);
    const d = dir as 0 | 1;
    if (kind === 0) {
      return {
        type: RecordType.FlowOpen, flowId, tsNs: ts, ipVersion: 4, l4: 6, clientIp: Buffer.from([10, 0, 0, flow + 1]), clientPort: 40000 + flow,
        serverIp: Buffer.from([10, 0, 1, 1]), serverPort: 443, tags: {},
      };
    }
    if (kind === 1) return { type: RecordType.FlowClose, flowId, tsNs: ts, reason: 0, bytesC2s: at, bytesS2c: BigInt(bytes.length) * 10n };
    if (kind === 2) return { type: RecordType.Gap, flowId, tsNs: ts, dir: d, offset: at, length: BigInt(bytes.length) };
    return { type: RecordType.Data, flowId, tsNs: ts, dir: d, offset: at, payload: Buffer.from(bytes.length === 0 ? [0] : bytes) };
  });
  return Buffer.concat([Buffer.from([control]), ...records.map(encodeRecord)]);
}

export const target: FuzzTarget = { name: 'flow-table', fuzz, structured: flowRecords({ nearU64: true }), maxLength: 4096 };
