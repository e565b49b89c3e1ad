import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FlowTable, HELD_ITEM_COST_BYTES, OPEN_FLOW_COST_BYTES } from '../../stitcher/flow/flow-table.js';
import { RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import { CloseReason, Direction, RecordingConsumer, close, data, flowId, gap, open } from './records.js';

const C2S = Direction.ClientToServer;
const S2C = Direction.ServerToClient;
const GW = 'gw-1';

/** A deterministic shuffle (xorshift), so a failure reproduces. */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed;
  for (let i = items.length - 1; i > 0; i--) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Splits a stream into chunks of 1..max bytes, some overlapping their neighbours. */
function chunks(id: Buffer, dir: Direction, stream: Buffer, max: number, overlap: number, baseTs: bigint) {
  const records = [];
  let offset = 0;
  let n = 0;
  while (offset < stream.length) {
    const length = 1 + ((n * 7919) % max);
    const start = Math.max(0, offset - (n % 3 === 0 ? overlap : 0));
    const end = Math.min(stream.length, offset + length);
    records.push(data(id, dir, start, stream.subarray(start, end), baseTs + BigInt(offset)));
    offset = end;
    n++;
  }
  return records;
}

function tsOf(consumer: RecordingConsumer): bigint[] {
  return consumer.events.map((seen) => seen.event.tsNs);
}

/** The close event of a flow, without its accounts (checked on their own). */
function closeOf(consumer: RecordingConsumer, id: Buffer): { kind: string; tsNs: bigint; reason: unknown } {
  const last = consumer.of(id).at(-1);
  if (last?.kind !== 'close') throw new Error(`flow ${id.toString('hex')} has not closed`);
  return { kind: last.kind, tsNs: last.tsNs, reason: last.reason };
}

const SECOND = 1_000_000_000n;

describe('flow/flow-table', () => {
  it('holds a flow until the object with its FLOW_CLOSE ends, then hands on open, both directions by time, close', () => {
    const id = flowId(1);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      data(id, C2S, 18, Buffer.from('more'), 40n),
      close(id, CloseReason.FinFromClient, 22, 17, 50n),
      data(id, S2C, 0, Buffer.from('HTTP/1.1 200 OK\r\n'), 30n),
      open(id, { tsNs: 10n }),
      data(id, C2S, 0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 20n),
    ]);
    expect(consumer.calls, 'nothing before the object ends').to.deep.equal([]);
    table.endOfObject(GW);
    const events = consumer.of(id);
    expect(events.map((e) => `${e.kind}@${e.tsNs}`)).to.deep.equal(['data@20', 'data@30', 'data@40', 'close@50']);
    expect(closeOf(consumer, id)).to.deep.equal({ kind: 'close', tsNs: 50n, reason: CloseReason.FinFromClient });
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('GET / HTTP/1.1\r\n\r\nmore');
    expect(consumer.opened.map((f) => f.key)).to.deep.equal([id.toString('hex')]);
    expect(consumer.opened[0]!.gateway).to.equal(GW);
    expect(table.stats).to.include({ flowsOpened: 1, flowsClosed: 1, flowsOpen: 0, tapped: 39, exported: 39, holes: 0, bufferedBytes: 0, heldItems: 0 });
  });

  it('reassembles both directions exactly from shuffled, duplicated and overlapping chunks across blocks, and accounts for every byte', () => {
    const id = flowId(2);
    const up = randomBytes(50_000);
    const down = randomBytes(120_000);
    const records: CtapRecord[] = [
      ...chunks(id, C2S, up, 3000, 100, 100n), ...chunks(id, S2C, down, 5000, 250, 200n),
    ];
    const duplicates = records.filter((_, i) => i % 5 === 0);
    const all = shuffle([...records, ...duplicates, close(id, CloseReason.FinFromServer, up.length, down.length, 1_000_000n)], 42);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 1n })]);
    for (let i = 0; i < all.length; i += 7) table.ingestBlock(GW, all.slice(i, i + 7));
    table.endOfObject(GW);
    expect(consumer.stream(id, C2S)).to.deep.equal({ bytes: up, holes: [] });
    expect(consumer.stream(id, S2C)).to.deep.equal({ bytes: down, holes: [] });
    const tapped = [...records, ...duplicates].reduce((n, r) => n + (r.type === RecordType.Data ? r.payload.length : 0), 0);
    expect(table.stats).to.include({ tapped, exported: up.length + down.length, duplicate: tapped - up.length - down.length, trimmed: 0, late: 0, bufferedBytes: 0 });
    const accounts = consumer.of(id).at(-1)!;
    expect(accounts.kind === 'close' && accounts.accounts?.map((a) => a.exported)).to.deep.equal([up.length, down.length]);
    const ts = tsOf(consumer);
    expect(ts).to.deep.equal([...ts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('gives each byte the time of its first copy: a later re-send that overlaps does not move earlier bytes behind the other direction', () => {
    const id = flowId(0x21);
    const hello = Buffer.from('client hello, in two reads');
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    // As a gateway wrote it: the read split in two, then a re-send overlapping both that came after the server's answer.
    table.ingestBlock(GW, [
      open(id, { tsNs: 1n }),
      data(id, C2S, 5, hello.subarray(5, 30), 900n),
      data(id, S2C, 0, Buffer.from('server hello'), 50n),
      data(id, C2S, 0, hello.subarray(0, 12), 10n),
      data(id, C2S, 12, hello.subarray(12), 11n),
      close(id, CloseReason.FinFromClient, hello.length, 12, 1000n),
    ]);
    table.endOfObject(GW);
    expect(consumer.calls).to.deep.equal(['open 21', 'data 21 10', 'data 21 11', 'data 21 50', 'close 21 1000']);
    expect(consumer.stream(id, C2S).bytes).to.deep.equal(hello);
  });

  it('hands on an open flow only once the gateway\'s clock is a reorder window past its bytes, the other direction\'s late bytes still first', () => {
    const id = flowId(0x22);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { reorderWindowNs: 10n * SECOND });
    // Object 0: the request and the second half of the answer; the first half comes in object 1.
    table.ingestBlock(GW, [open(id, { tsNs: 1n * SECOND }), data(id, C2S, 0, Buffer.from('request'), 2n * SECOND), data(id, S2C, 5, Buffer.from('world'), 4n * SECOND)]);
    table.endOfObject(GW, 1n * SECOND);
    expect(consumer.calls, 'still inside the window').to.deep.equal([]);
    table.ingestBlock(GW, [data(id, S2C, 0, Buffer.from('hello'), 3n * SECOND)]);
    table.endOfObject(GW, 13n * SECOND);
    expect(consumer.calls, 'up to 3 s released, in time order').to.deep.equal([`open 22`, `data 22 ${2n * SECOND}`, `data 22 ${3n * SECOND}`]);
    table.endOfObject(GW, 20n * SECOND);
    expect(consumer.calls.at(-1)).to.equal(`data 22 ${4n * SECOND}`);
    expect(consumer.stream(id, S2C).bytes.toString()).to.equal('helloworld');
    expect(table.stats.forcedReleases).to.equal(0);
  });

  it('reassembles exactly from random overlapping ranges in random order (fixed seeds)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const id = flowId(100 + seed);
      const stream = randomBytes(20_000);
      let s = seed * 2654435761;
      const rand = (n: number) => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % n; };
      const records: CtapRecord[] = [];
      for (let start = 0; start < stream.length; start += 500) records.push(data(id, C2S, start, stream.subarray(start, start + 500), 2n));
      for (let i = 0; i < 300; i++) {
        const a = rand(stream.length);
        const b = Math.min(stream.length, a + 1 + rand(3000));
        records.push(data(id, C2S, a, stream.subarray(a, b), BigInt(rand(5))));
      }
      const consumer = new RecordingConsumer();
      const table = new FlowTable(consumer);
      table.ingestBlock(GW, [open(id, { tsNs: 1n })]);
      const shuffled = shuffle(records, seed);
      for (let i = 0; i < shuffled.length; i += 13) table.ingestBlock(GW, shuffled.slice(i, i + 13));
      table.closeAll();
      expect(consumer.stream(id, C2S).bytes, `seed ${seed}`).to.deep.equal(stream);
      const tapped = records.reduce((n, r) => n + (r.type === RecordType.Data ? r.payload.length : 0), 0);
      expect(table.stats, `seed ${seed}`).to.include({ tapped, exported: stream.length, duplicate: tapped - stream.length, bufferedBytes: 0 });
    }
  });

  it('reports a GAP as a hole where the stream reaches it', () => {
    const id = flowId(3);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id), data(id, C2S, 0, Buffer.alloc(100, 1), 2n)]);
    table.ingestBlock(GW, [data(id, C2S, 150, Buffer.alloc(50, 2), 4n), gap(id, C2S, 100, 50, 3n)]);
    table.endOfObject(GW, 100n * SECOND);
    const { bytes, holes } = consumer.stream(id, C2S);
    expect(holes).to.deep.equal([{ offset: 100, length: 50, cause: 'gap' }]);
    expect(bytes.subarray(150)).to.deep.equal(Buffer.alloc(50, 2));
    expect(table.stats).to.include({ holes: 1, gapHoleBytes: 50, missingHoleBytes: 0, bufferedBytes: 0, heldItems: 0 });
  });

  it('waits for missing bytes until the object with FLOW_CLOSE ends, then reports them and the missing tail: holes = final length - bytes exported', () => {
    const id = flowId(4);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 1n }), data(id, S2C, 0, Buffer.alloc(100, 1), 2n), data(id, S2C, 200, Buffer.alloc(100, 3), 4n)]);
    table.endOfObject(GW, 100n * SECOND);
    table.ingestBlock(GW, [close(id, CloseReason.RstFromServer, 0, 400, 9n)]);
    expect(consumer.stream(id, S2C).bytes.length).to.equal(100);
    expect(table.stats.bufferedBytes).to.equal(100);
    table.endOfObject(GW);
    const { bytes, holes } = consumer.stream(id, S2C);
    expect(holes).to.deep.equal([{ offset: 100, length: 100, cause: 'missing' }, { offset: 300, length: 100, cause: 'missing' }]);
    expect(bytes.subarray(200, 300)).to.deep.equal(Buffer.alloc(100, 3));
    expect(closeOf(consumer, id)).to.deep.equal({ kind: 'close', tsNs: 9n, reason: CloseReason.RstFromServer });
    expect(table.stats).to.include({ holes: 2, missingHoleBytes: 200, holeBytes: 200, bufferedBytes: 0, flowsOpen: 0 });
    const closeEvent = consumer.of(id).at(-1)!;
    expect(closeEvent.kind === 'close' && closeEvent.accounts?.[1]).to.include({ tapped: 200, exported: 200, holeBytes: 200, holes: 2 });
  });

  it('releases a flow over its cap early (counted), gives up what it misses only if still over, and counts bytes that come after as late', () => {
    const id = flowId(5);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxFlowBufferBytes: 1000 });
    table.ingestBlock(GW, [open(id), data(id, C2S, 10, Buffer.alloc(600, 1), 2n)]);
    expect(table.stats.forcedFlushesFlowCap).to.equal(0);
    table.ingestBlock(GW, [data(id, C2S, 610, Buffer.alloc(600, 2), 3n)]);
    expect(table.stats).to.include({ forcedFlushesFlowCap: 1, forcedReleases: 2 });
    expect(consumer.stream(id, C2S).holes).to.deep.equal([{ offset: 0, length: 10, cause: 'missing' }]);
    expect(consumer.stream(id, C2S).bytes.length).to.equal(1210);
    table.ingestBlock(GW, [data(id, C2S, 0, Buffer.alloc(10, 9), 4n), data(id, C2S, 1200, Buffer.alloc(10, 9), 4n)]);
    expect(table.stats).to.include({ late: 10, duplicate: 10, bufferedBytes: 0 });
  });

  it('keeps the table under its memory budget: the flows quiet the longest release first, then give up what they miss', () => {
    const consumer = new RecordingConsumer();
    // Three open flows and three held chunks cost their bookkeeping beside 1000 bytes.
    const table = new FlowTable(consumer, { maxTotalBufferBytes: 1000 + 3 * OPEN_FLOW_COST_BYTES + 3 * HELD_ITEM_COST_BYTES });
    const [a, b, c] = [flowId(6), flowId(7), flowId(8)];
    table.ingestBlock(GW, [open(a, { tsNs: 1n }), open(b, { tsNs: 1n }), open(c, { tsNs: 1n }), data(b, C2S, 5, Buffer.alloc(500), 2n)]);
    table.ingestBlock(GW, [data(a, C2S, 5, Buffer.alloc(300), 3n)]);
    expect(table.stats.forcedFlushesTotalCap).to.equal(0);
    table.ingestBlock(GW, [data(c, S2C, 5, Buffer.alloc(400), 4n)]);
    expect(table.stats.forcedFlushesTotalCap).to.equal(1);
    expect(consumer.stream(b, C2S).holes, 'b was quiet longest').to.have.length(1);
    expect(consumer.stream(a, C2S).bytes.length).to.equal(0);
    expect(table.stats.bufferedBytes).to.equal(700);
  });

  it('closes the flow quiet the longest to open one more past --max-open-flows, and counts it', () => {
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxOpenFlows: 2 });
    const [a, b, c] = [flowId(0x30), flowId(0x31), flowId(0x32)];
    table.ingestBlock(GW, [open(a, { tsNs: 1n }), open(b, { tsNs: 1n })]);
    table.ingestBlock(GW, [data(a, C2S, 0, Buffer.from('a'), 2n)]);
    table.ingestBlock(GW, [open(c, { tsNs: 3n })]);
    expect(closeOf(consumer, b)).to.deep.equal({ kind: 'close', tsNs: 1n, reason: undefined });
    expect(table.stats).to.include({ flowsOpen: 2, flowsClosedForFlowCap: 1 });
  });

  it('drops records waiting for their FLOW_OPEN, then closes the quietest flows, when nothing else brings it under its budget', () => {
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxTotalBufferBytes: 2 * OPEN_FLOW_COST_BYTES + 50 + HELD_ITEM_COST_BYTES + 40 });
    const flows = [flowId(0x40), flowId(0x41), flowId(0x42)];
    table.ingestBlock(GW, [open(flows[0]!), open(flows[1]!), data(flowId(0x4f), C2S, 0, Buffer.alloc(50), 2n)]);
    expect(table.stats).to.include({ earlyDroppedForMemory: 0, flowsOpen: 2 });
    table.ingestBlock(GW, [open(flows[2]!), data(flowId(0x4e), C2S, 0, Buffer.alloc(50), 3n)]);
    // The third open goes over: the early record held so far is dropped, then the quietest flows closed, down to 90%.
    expect(table.stats.earlyDroppedForMemory).to.equal(1);
    expect(table.stats).to.include({ flowsClosedForMemory: 2, flowsOpen: 1, orphanRecords: 1 });
    expect(closeOf(consumer, flows[0]!)).to.deep.equal({ kind: 'close', tsNs: 1_000_000_000n, reason: undefined });
    expect(table.memoryBytes).to.be.at.most(2 * OPEN_FLOW_COST_BYTES + 50 + HELD_ITEM_COST_BYTES + 40);
  });

  it('holds DATA that comes before its FLOW_OPEN in the same object, and orphans DATA of flows never opened', () => {
    const id = flowId(9);
    const stranger = flowId(10);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    const early = Buffer.from('early bytes');
    table.ingestBlock(GW, [data(id, C2S, 0, early, 5n), data(stranger, C2S, 0, Buffer.alloc(33), 5n)]);
    early.fill(0); // the block is gone: the table must have kept its own copy
    expect(table.stats).to.include({ bufferedBytes: 44, heldItems: 2 });
    table.ingestBlock(GW, [open(id, { tsNs: 4n }), data(id, C2S, 11, Buffer.from('!'), 6n)]);
    table.endOfObject(GW, 100n * SECOND);
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('early bytes!');
    expect(table.stats).to.include({ orphanRecords: 1, orphanBytes: 33, bufferedBytes: 0, heldItems: 0, flowsOpened: 1 });
    expect(consumer.opened.map((f) => f.key)).to.deep.equal([id.toString('hex')]);
  });

  it('copies what it holds past the block, so a block\'s memory can be reused', () => {
    const id = flowId(11);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    const block = Buffer.from('0123456789abcdefghij');
    table.ingestBlock(GW, [open(id), data(id, C2S, 0, block.subarray(0, 10), 2n), data(id, C2S, 15, block.subarray(15, 20), 3n)]);
    block.fill(0x2e);
    table.ingestBlock(GW, [data(id, C2S, 10, Buffer.from('abcde'), 4n)]);
    table.closeAll();
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('0123456789abcdefghij');
  });

  it('clamps a chunk to the flow\'s last time, so times never go back', () => {
    const id = flowId(12);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 100n }), data(id, S2C, 0, Buffer.from('b'), 300n)]);
    table.ingestBlock(GW, [data(id, C2S, 0, Buffer.from('a'), 200n), data(id, S2C, 1, Buffer.from('c'), 50n)]);
    table.ingestBlock(GW, [close(id, CloseReason.FinFromClient, 1, 2, 10n)]);
    table.endOfObject(GW);
    expect(tsOf(consumer)).to.deep.equal([200n, 300n, 300n, 300n]);
  });

  it('closes every flow at closeAll, missing bytes as holes and reason undefined', () => {
    const id = flowId(13);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 1n }), data(id, C2S, 0, Buffer.alloc(10), 2n), data(id, C2S, 20, Buffer.alloc(10), 3n)]);
    table.endOfObject(GW);
    table.closeAll();
    expect(consumer.stream(id, C2S).holes).to.deep.equal([{ offset: 10, length: 10, cause: 'missing' }]);
    expect(closeOf(consumer, id)).to.deep.equal({ kind: 'close', tsNs: 3n, reason: undefined });
    expect(table.stats).to.include({ flowsOpen: 0, flowsClosed: 1, bufferedBytes: 0 });
  });

  it('ignores a repeated object after the close: no second open, its records counted as late', () => {
    const id = flowId(14);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    const object = [open(id), data(id, C2S, 0, Buffer.from('x'), 2n), close(id, CloseReason.FinFromClient, 1, 0, 3n)];
    table.ingestBlock(GW, object);
    table.endOfObject(GW);
    table.ingestBlock(GW, object);
    table.endOfObject(GW);
    expect(consumer.opened).to.have.length(1);
    expect(consumer.events).to.have.length(2);
    expect(table.stats).to.include({ flowsOpened: 1, lateRecords: 2, lateRecordBytes: 1, orphanRecords: 0 });
  });

  it('closes the flows idle for a given time of their gateway\'s clock, and only those', () => {
    const [quiet, busy] = [flowId(16), flowId(17)];
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(quiet, { tsNs: 1n }), open(busy, { tsNs: 1n }), data(quiet, C2S, 0, Buffer.from('q'), 5n), data(busy, C2S, 0, Buffer.from('b'), 50n)]);
    expect(table.closeIdle('gw-other', 30n), 'another gateway has no flows').to.equal(0);
    expect(table.closeIdle(GW, 30n), 'no record for 30 ns before the gateway\'s newest (50)').to.equal(1);
    expect(closeOf(consumer, quiet)).to.deep.equal({ kind: 'close', tsNs: 5n, reason: undefined });
    expect(consumer.of(busy)).to.deep.equal([]);
    expect(table.stats).to.include({ flowsOpen: 1, flowsClosed: 1, flowsClosedIdle: 1 });
    expect(table.closeGateway(GW), 'a gateway gone quiet closes what it still has').to.equal(1);
    expect(closeOf(consumer, busy)).to.deep.equal({ kind: 'close', tsNs: 50n, reason: undefined });
    expect(table.stats).to.include({ flowsOpen: 0, flowsClosed: 2, flowsClosedIdle: 2 });
  });

  it('merges the flows it releases together by time, each open before its events, ties by flow id', () => {
    const [a, b] = [flowId(0x18), flowId(0x19)];
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      data(b, S2C, 0, Buffer.from('b2'), 30n), open(a, { tsNs: 1n }), data(a, C2S, 0, Buffer.from('a1'), 10n), data(a, S2C, 0, Buffer.from('a2'), 30n),
      data(b, C2S, 0, Buffer.from('b1'), 20n), open(b, { tsNs: 15n }),
    ]);
    table.endOfObject(GW, 100n * SECOND);
    expect(consumer.calls).to.deep.equal(['open 18', 'data 18 10', 'open 19', 'data 19 20', 'data 18 30', 'data 19 30']);
  });

  it('keeps the flows of different gateways apart', () => {
    const id = flowId(15);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock('gw-a', [open(id), data(id, C2S, 0, Buffer.from('a'), 2n)]);
    table.ingestBlock('gw-b', [data(id, C2S, 0, Buffer.from('b'), 2n)]);
    table.endOfObject('gw-b');
    expect(table.stats).to.include({ orphanRecords: 1, flowsOpen: 1 });
  });

  it('reports no empty hole for a GAP that runs past the final length the stream has reached (fuzz finding)', () => {
    const id = flowId(0x24);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      open(id), data(id, S2C, 0, Buffer.alloc(10, 1), 2n), gap(id, S2C, 5, 20, 3n), close(id, CloseReason.FinFromServer, 0, 10, 4n),
    ]);
    table.endOfObject(GW);
    expect(consumer.stream(id, S2C)).to.deep.equal({ bytes: Buffer.alloc(10, 1), holes: [] });
    expect(table.stats).to.include({ holes: 0, heldItems: 0 });
  });

  it('refuses offsets and lengths past 2^53 as invalid records, keeping the rest of the flow', () => {
    const id = flowId(0x23);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      open(id), data(id, C2S, 0, Buffer.from('ok'), 2n),
      { ...data(id, C2S, 0, Buffer.from('x'), 3n), offset: 2n ** 64n - 1n },
      { ...gap(id, S2C, 0, 1, 3n), length: 2n ** 63n },
    ]);
    table.closeAll();
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('ok');
    expect(table.stats).to.include({ invalidRecords: 2, holes: 0 });
  });
});
