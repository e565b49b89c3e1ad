/**
 * Reassembly holds for every layout the format allows (docs/ctap-format.md):
 * the records of a flow in any order within an object, its DATA and GAP
 * records in any object from the one of its FLOW_OPEN to the one of its
 * FLOW_CLOSE, chunks split differently, repeated, overlapping with the same
 * bytes, GAPs anywhere, blocks of any size and codec. fast-check generates
 * flows and layouts; each layout is written as real CTAP objects, read back by
 * the reader and stitched, and must give exactly what the in-order layout
 * gives: the events handed on, their bytes and times, and the pcap written.
 * With chunks dropped, the holes must be exactly the ranges no chunk carried,
 * and every direction's account must add up.
 *
 * On a failure fast-check prints the seed and the shrunk case; CLOUDTAP_FC_SEED
 * and CLOUDTAP_FC_PATH replay it, CLOUDTAP_FC_RUNS sets the number of cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../../stitcher/flow/events.js';
import { TcpSynthesizer } from '../../stitcher/flow/tcp-synthesizer.js';
import { readCtapObject } from '../../stitcher/format/reader.js';
import { BlockCodec, CloseReason, Direction, ObjectKind, RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import { CtapObjectWriter } from '../../stitcher/format/writer.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { keepPacket, pcapBytes } from '../support/pcap-file.js';
import { close, data, flowId, gap, open } from './records.js';

const GW = 'gw-prop';
const T0 = 1_800_000_000_000_000_000n;
const RUNS = Number(process.env.CLOUDTAP_FC_RUNS ?? 300);

/** What happens to one socket read as the gateway writes it. */
type Fault = 'plain' | 'resplit' | 'repeat' | 'overlap' | 'drop' | 'gap';

interface ReadPlan {
  readonly dir: Direction;
  /** Length of the read (the stream is cut into reads in order). */
  readonly length: number;
  readonly fault: Fault;
  /** Where a resplit or an overlap cuts, as a share of the read. */
  readonly cut: number;
}

interface FlowPlan {
  readonly up: Uint8Array;
  readonly down: Uint8Array;
  readonly reads: readonly ReadPlan[];
}

interface Written {
  /** Records in write order (times rise with it). */
  readonly records: CtapRecord[];
  /** Per flow and direction: the byte ranges some DATA record carries. */
  readonly carried: Map<string, [Array<[number, number]>, Array<[number, number]>]>;
  readonly streams: Map<string, [Buffer, Buffer]>;
}

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('plain' as const) },
  { weight: 2, arbitrary: fc.constantFrom('resplit' as const, 'repeat' as const, 'overlap' as const) },
  { weight: 1, arbitrary: fc.constantFrom('drop' as const, 'gap' as const) },
);

const flowArb: fc.Arbitrary<FlowPlan> = fc.record({
  up: fc.uint8Array({ minLength: 1, maxLength: 700 }),
  down: fc.uint8Array({ minLength: 1, maxLength: 2500 }),
  reads: fc.array(fc.record({
    dir: fc.constantFrom(Direction.ClientToServer, Direction.ServerToClient),
    length: fc.integer({ min: 1, max: 900 }),
    fault: faultArb,
    cut: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  }), { minLength: 1, maxLength: 14 }),
});

/** The gateway's records in write order: per flow its reads (with their faults) interleaved with the other flows. */
function writeFlows(plans: readonly FlowPlan[], interleave: readonly number[], allowLoss: boolean): Written {
  const perFlow: CtapRecord[][] = [];
  const carried = new Map<string, [Array<[number, number]>, Array<[number, number]>]>();
  const streams = new Map<string, [Buffer, Buffer]>();
  plans.forEach((plan, index) => {
    const id = flowId(index + 1);
    const key = id.toString('hex');
    const bytes: [Buffer, Buffer] = [Buffer.from(plan.up), Buffer.from(plan.down)];
    streams.set(key, bytes);
    const ranges: [Array<[number, number]>, Array<[number, number]>] = [[], []];
    carried.set(key, ranges);
    const records: CtapRecord[] = [open(id)];
    const at = [0, 0];
    const emit = (dir: Direction, start: number, end: number) => {
      records.push(data(id, dir, start, bytes[dir].subarray(start, end), 0n));
      ranges[dir].push([start, end]);
    };
    // The reads as planned, then the rest of each stream in one read.
    const reads = [...plan.reads, { dir: Direction.ClientToServer, length: Infinity, fault: 'plain' as Fault, cut: 0.5 }, { dir: Direction.ServerToClient, length: Infinity, fault: 'plain' as Fault, cut: 0.5 }];
    for (const read of reads) {
      const dir = read.dir;
      const start = at[dir]!;
      const end = Math.min(bytes[dir].length, start + read.length);
      if (end <= start) continue;
      at[dir] = end;
      const middle = start + Math.max(1, Math.min(end - start - 1, Math.floor((end - start) * read.cut)));
      const fault = !allowLoss && (read.fault === 'drop' || read.fault === 'gap') ? 'plain' : read.fault;
      switch (fault) {
        case 'plain':
          emit(dir, start, end);
          break;
        case 'resplit':
          emit(dir, start, middle);
          if (middle < end) emit(dir, middle, end);
          break;
        case 'repeat':
          emit(dir, start, end);
          emit(dir, start, end);
          break;
        case 'overlap':
          emit(dir, start, end);
          emit(dir, Math.max(0, start - (middle - start)), middle);
          break;
        case 'drop':
          break;
        case 'gap':
          records.push(gap(id, dir, start, end - start, 0n));
          break;
      }
    }
    records.push(close(id, CloseReason.FinFromClient, bytes[0].length, bytes[1].length, 0n));
    perFlow.push(records);
  });
  // Interleave the flows as the gateway wrote them, times rising in write order.
  const records: CtapRecord[] = [];
  const cursor = perFlow.map(() => 0);
  let pick = 0;
  while (records.length < perFlow.reduce((n, list) => n + list.length, 0)) {
    let flow = (interleave[pick++ % Math.max(1, interleave.length)] ?? 0) % perFlow.length;
    while (cursor[flow]! >= perFlow[flow]!.length) flow = (flow + 1) % perFlow.length;
    const record = perFlow[flow]![cursor[flow]!++]!;
    records.push({ ...record, tsNs: T0 + BigInt(records.length) * 1000n } as CtapRecord);
  }
  return { records, carried, streams };
}

interface Layout {
  /** Per object, its records in the order written into it. */
  readonly objects: CtapRecord[][];
  /** Per object, its blocks' size and codec. */
  readonly blockBytes: readonly number[];
  readonly codecs: readonly BlockCodec[];
}

/** The in-order layout: records in write order, cut into objects at `cuts` (shares of the run). */
function inOrder(records: readonly CtapRecord[], cuts: readonly number[]): CtapRecord[][] {
  const bounds = [...new Set(cuts.map((share) => Math.floor(share * records.length)))].filter((n) => n > 0 && n < records.length).sort((a, b) => a - b);
  const objects: CtapRecord[][] = [];
  let from = 0;
  for (const bound of [...bounds, records.length]) {
    objects.push(records.slice(from, bound));
    from = bound;
  }
  return objects;
}

/**
 * Another layout the format allows: FLOW_OPEN and FLOW_CLOSE stay where they
 * were, every DATA and GAP moves to an object from its flow's FLOW_OPEN to its
 * FLOW_CLOSE (`moves`), and each object's records are shuffled (`order`).
 */
function scattered(objects: readonly CtapRecord[][], moves: readonly number[], order: readonly number[]): CtapRecord[][] {
  const openAt = new Map<string, number>();
  const closeAt = new Map<string, number>();
  objects.forEach((records, i) => {
    for (const record of records) {
      if (record.type === RecordType.FlowOpen) openAt.set(record.flowId.toString('hex'), i);
      if (record.type === RecordType.FlowClose) closeAt.set(record.flowId.toString('hex'), i);
    }
  });
  const placed: { record: CtapRecord; key: number }[][] = objects.map(() => []);
  let n = 0;
  objects.forEach((records, i) => {
    for (const record of records) {
      const key = order[n % order.length]! + n / 1e6;
      let target = i;
      if (record.type === RecordType.Data || record.type === RecordType.Gap) {
        const flow = record.flowId.toString('hex');
        const lo = openAt.get(flow)!;
        const hi = closeAt.get(flow)!;
        target = lo + (moves[n % moves.length]! % (hi - lo + 1));
      }
      placed[target]!.push({ record, key });
      n++;
    }
  });
  return placed.map((list) => list.sort((a, b) => a.key - b.key).map((entry) => entry.record));
}

/** What one stitch of a layout gave: every call to the consumer, and the pcap of the synthesised packets. */
interface Outcome {
  readonly calls: string[];
  readonly closes: Map<string, FlowEvent>;
  readonly streams: Map<string, [Buffer[], Buffer[]]>;
  readonly holes: Map<string, [Array<[number, number]>, Array<[number, number]>]>;
  readonly pcap: Buffer;
}

class Recorder implements FlowConsumer {
  readonly calls: string[] = [];
  readonly closes = new Map<string, FlowEvent>();
  readonly streams = new Map<string, [Buffer[], Buffer[]]>();
  readonly holes = new Map<string, [Array<[number, number]>, Array<[number, number]>]>();

  constructor(private readonly next: FlowConsumer) {}

  openFlow(flow: FlowIdentity): void {
    this.calls.push(`open ${flow.key}`);
    this.streams.set(flow.key, [[], []]);
    this.holes.set(flow.key, [[], []]);
    this.next.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (event.kind === 'data') {
      this.calls.push(`data ${flow.key} ${event.dir} ${event.offset} ${event.tsNs} ${event.payload.toString('hex')}`);
      this.streams.get(flow.key)![event.dir].push(Buffer.from(event.payload));
    } else if (event.kind === 'hole') {
      this.calls.push(`hole ${flow.key} ${event.dir} ${event.offset} ${event.length} ${event.tsNs} ${event.cause}`);
      this.holes.get(flow.key)![event.dir].push([Number(event.offset), Number(event.offset + event.length)]);
    } else {
      this.calls.push(`close ${flow.key} ${event.tsNs} ${event.reason}`);
      this.closes.set(flow.key, event);
    }
    this.next.flowEvent(flow, event);
  }
}

/** Writes each object as CTAP bytes, reads them back with the reader and stitches them, block by block. */
async function stitchLayout(layout: Layout): Promise<Outcome> {
  const packets: Packet[] = [];
  const recorder = new Recorder(new TcpSynthesizer((packet) => packets.push(keepPacket(packet))));
  const table = new FlowTable(recorder);
  for (const [seq, records] of layout.objects.entries()) {
    const createdNs = records.reduce((min, r) => (r.tsNs < min ? r.tsNs : min), T0 + 10n ** 12n);
    const writer = new CtapObjectWriter({ kind: ObjectKind.Traffic, gateway: GW, seq: BigInt(seq), createdNs }, { blockBytes: layout.blockBytes[seq]!, codec: layout.codecs[seq]! });
    for (const record of records) writer.add(record);
    const bytes = writer.finish();
    let header: bigint | undefined;
    for await (const event of readCtapObject(`object ${seq}`, (async function* () { yield bytes; })())) {
      if (event.kind === 'header') header = event.header.createdNs;
      else if (event.kind === 'records') table.ingestBlock(GW, event.records);
      else if (event.kind === 'damage') throw new Error(`object ${seq} read back damaged: ${event.damage.problem}`);
    }
    // The gateway's clock: created_ns from the header, the same in every layout.
    table.endOfObject(GW, header);
  }
  table.closeAll();
  return { calls: recorder.calls, closes: recorder.closes, streams: recorder.streams, holes: recorder.holes, pcap: pcapBytes(packets) };
}

/** The ranges of [0, length) that no range of `carried` covers. */
function uncovered(carried: readonly [number, number][], length: number): [number, number][] {
  const sorted = [...carried].sort((a, b) => a[0] - b[0]);
  const missing: [number, number][] = [];
  let at = 0;
  for (const [start, end] of sorted) {
    if (start > at) missing.push([at, Math.min(start, length)]);
    at = Math.max(at, end);
  }
  if (at < length) missing.push([at, length]);
  return missing.filter(([a, b]) => b > a);
}

/** Adjacent hole events joined: a GAP and the missing bytes beside it are one range of loss. */
function joined(ranges: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = out.at(-1);
    if (last !== undefined && last[1] === start) last[1] = end;
    else out.push([start, end]);
  }
  return out;
}

interface Case {
  readonly flows: FlowPlan[];
  readonly interleave: number[];
  readonly cuts: number[];
  readonly moves: number[];
  readonly order: number[];
  readonly blockBytes: number[];
  readonly codecs: BlockCodec[];
  /** Whether reads may be dropped or lost as GAPs. */
  readonly allowLoss: boolean;
}

const caseArb = (allowLoss: boolean): fc.Arbitrary<Case> => fc.record({
  flows: fc.array(flowArb, { minLength: 1, maxLength: 3 }),
  interleave: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 40 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  moves: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
  order: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
  blockBytes: fc.array(fc.integer({ min: 40, max: 4096 }), { minLength: 8, maxLength: 8 }),
  codecs: fc.array(fc.constantFrom(BlockCodec.None, BlockCodec.Deflate, BlockCodec.Gzip), { minLength: 8, maxLength: 8 }),
}).map((c) => ({ ...c, allowLoss }));

function layoutsOf(c: Case): { written: Written; ordered: Layout; other: Layout } {
  const written = writeFlows(c.flows, c.interleave, c.allowLoss);
  const objects = inOrder(written.records, c.cuts);
  const blocks = (i: number) => c.blockBytes[i % c.blockBytes.length]!;
  const codecs = (i: number) => c.codecs[i % c.codecs.length]!;
  const ordered: Layout = { objects, blockBytes: objects.map(() => 1024 * 1024), codecs: objects.map(() => BlockCodec.None) };
  const other = scattered(objects, c.moves, c.order);
  return { written, ordered, other: { objects: other, blockBytes: other.map((_, i) => blocks(i)), codecs: other.map((_, i) => codecs(i)) } };
}

const parameters = (): fc.Parameters<[Case]> => ({
  numRuns: RUNS,
  ...(process.env.CLOUDTAP_FC_SEED !== undefined ? { seed: Number(process.env.CLOUDTAP_FC_SEED) } : {}),
  ...(process.env.CLOUDTAP_FC_PATH !== undefined ? { path: process.env.CLOUDTAP_FC_PATH } : {}),
});

describe('flow: every layout the format allows (property-based, fast-check)', function () {
  this.timeout(600_000);

  it('hands on the same events, bytes and times, and writes the same pcap, as the in-order layout', async () => {
    await fc.assert(fc.asyncProperty(caseArb(false), async (c) => {
      const { written, ordered, other } = layoutsOf(c);
      const expected = await stitchLayout(ordered);
      const got = await stitchLayout(other);
      expect(got.calls).to.deep.equal(expected.calls);
      expect(got.pcap, 'the pcap of the other layout is byte for byte the in-order one').to.deep.equal(expected.pcap);
      for (const [key, [up, down]] of written.streams) {
        const [c2s, s2c] = got.streams.get(key)!;
        expect(Buffer.concat(c2s), `flow ${key} client bytes`).to.deep.equal(up);
        expect(Buffer.concat(s2c), `flow ${key} server bytes`).to.deep.equal(down);
      }
    }), parameters());
  });

  it('reports as holes exactly the ranges no chunk carried, and every direction\'s account adds up', async () => {
    await fc.assert(fc.asyncProperty(caseArb(true), async (c) => {
      const { written, ordered, other } = layoutsOf(c);
      const expected = await stitchLayout(ordered);
      const got = await stitchLayout(other);
      expect(got.calls).to.deep.equal(expected.calls);
      for (const [key, streams] of written.streams) {
        const carried = written.carried.get(key)!;
        const close = got.closes.get(key);
        if (close?.kind !== 'close' || close.accounts === undefined) throw new Error(`flow ${key} closed without accounts`);
        for (const dir of [Direction.ClientToServer, Direction.ServerToClient]) {
          const missing = uncovered(carried[dir], streams[dir].length);
          expect(joined(got.holes.get(key)![dir]), `flow ${key} dir ${dir} holes`).to.deep.equal(missing);
          const lost = missing.reduce((n, [a, b]) => n + b - a, 0);
          const account = close.accounts[dir];
          const tapped = written.records.reduce((n, r) => n + (r.type === RecordType.Data && r.dir === dir && r.flowId.toString('hex') === key ? r.payload.length : 0), 0);
          expect(account, `flow ${key} dir ${dir} account`).to.deep.equal({
            tapped, exported: streams[dir].length - lost, duplicate: tapped - (streams[dir].length - lost), trimmed: 0, late: 0,
            holeBytes: lost, holes: account.holes,
          });
          expect(account.holes > 0, 'a hole is never reported as zero').to.equal(lost > 0);
          // The bytes that did come are in place, the holes as zeros in this check.
          const seen = Buffer.concat(got.streams.get(key)![dir]);
          expect(seen.length).to.equal(streams[dir].length - lost);
        }
      }
    }), parameters());
  });
});
