import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import type { CtapRecord } from '../../stitcher/format/records.js';
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

describe('flow/flow-table', () => {
  it('hands on an in-order flow: open, both directions merged by time, close at the end of the object', () => {
    const id = flowId(1);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      open(id, { tsNs: 10n }),
      data(id, C2S, 0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 20n),
      data(id, S2C, 0, Buffer.from('HTTP/1.1 200 OK\r\n'), 30n),
      data(id, C2S, 18, Buffer.from('more'), 40n),
      close(id, CloseReason.FinFromClient, 22, 17, 50n),
    ]);
    expect(consumer.of(id).map((e) => e.kind)).to.deep.equal(['data', 'data', 'data']);
    table.endOfObject(GW);
    const events = consumer.of(id);
    expect(events.map((e) => `${e.kind}@${e.tsNs}`)).to.deep.equal(['data@20', 'data@30', 'data@40', 'close@50']);
    expect(events.at(-1)).to.include({ kind: 'close', reason: CloseReason.FinFromClient });
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('GET / HTTP/1.1\r\n\r\nmore');
    expect(consumer.opened.map((f) => f.key)).to.deep.equal([id.toString('hex')]);
    expect(consumer.opened[0]!.gateway).to.equal(GW);
    expect(table.stats).to.include({ flowsOpened: 1, flowsClosed: 1, flowsOpen: 0, bytesIn: 39, bytesOut: 39, holes: 0, bufferedBytes: 0 });
  });

  it('reassembles both directions exactly from shuffled, duplicated and overlapping chunks across blocks', () => {
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
    expect(table.stats.duplicateChunks).to.be.at.least(duplicates.length);
    expect(table.stats.overlapBytesTrimmed).to.be.greaterThan(0);
    expect(table.stats).to.include({ bytesIn: up.length + down.length, bytesOut: up.length + down.length, bufferedBytes: 0 });
    const ts = tsOf(consumer);
    expect(ts).to.deep.equal([...ts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('reassembles exactly from random overlapping ranges in random order (fuzz, fixed seeds)', () => {
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
        records.push(data(id, C2S, a, stream.subarray(a, b), 2n));
      }
      const consumer = new RecordingConsumer();
      const table = new FlowTable(consumer);
      table.ingestBlock(GW, [open(id, { tsNs: 1n })]);
      const shuffled = shuffle(records, seed);
      for (let i = 0; i < shuffled.length; i += 13) table.ingestBlock(GW, shuffled.slice(i, i + 13));
      expect(consumer.stream(id, C2S).bytes.equals(stream), `seed ${seed}`).to.equal(true);
      expect(table.stats).to.include({ bytesIn: stream.length, bytesOut: stream.length, bufferedBytes: 0 });
    }
  });

  it('reports a GAP as a hole at once, without waiting for the close', () => {
    const id = flowId(3);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id), data(id, C2S, 0, Buffer.alloc(100, 1), 2n)]);
    table.ingestBlock(GW, [data(id, C2S, 150, Buffer.alloc(50, 2), 4n), gap(id, C2S, 100, 50, 3n)]);
    const { bytes, holes } = consumer.stream(id, C2S);
    expect(holes).to.deep.equal([{ offset: 100, length: 50, cause: 'gap' }]);
    expect(bytes.subarray(150).equals(Buffer.alloc(50, 2))).to.equal(true);
    expect(table.stats).to.include({ holes: 1, gapHoleBytes: 50, missingHoleBytes: 0, bufferedBytes: 0 });
  });

  it('waits for missing bytes until the object with FLOW_CLOSE ends, then reports them and the missing tail', () => {
    const id = flowId(4);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 1n }), data(id, S2C, 0, Buffer.alloc(100, 1), 2n), data(id, S2C, 200, Buffer.alloc(100, 3), 4n)]);
    table.endOfObject(GW);
    table.ingestBlock(GW, [close(id, CloseReason.RstFromServer, 0, 400, 9n)]);
    expect(consumer.stream(id, S2C).bytes.length).to.equal(100);
    expect(table.stats.bufferedBytes).to.equal(100);
    table.endOfObject(GW);
    const { bytes, holes } = consumer.stream(id, S2C);
    expect(holes).to.deep.equal([{ offset: 100, length: 100, cause: 'missing' }, { offset: 300, length: 100, cause: 'missing' }]);
    expect(bytes.subarray(200, 300).equals(Buffer.alloc(100, 3))).to.equal(true);
    expect(consumer.of(id).at(-1)).to.deep.equal({ kind: 'close', tsNs: 9n, reason: CloseReason.RstFromServer });
    expect(table.stats).to.include({ holes: 2, missingHoleBytes: 200, bufferedBytes: 0, flowsOpen: 0 });
  });

  it('forces a flush when a flow holds more than its cap, and drops the late bytes afterwards', () => {
    const id = flowId(5);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxFlowBufferBytes: 1000 });
    table.ingestBlock(GW, [open(id), data(id, C2S, 10, Buffer.alloc(600, 1), 2n)]);
    expect(table.stats.forcedFlushesFlowCap).to.equal(0);
    table.ingestBlock(GW, [data(id, C2S, 610, Buffer.alloc(600, 2), 3n)]);
    expect(table.stats.forcedFlushesFlowCap).to.equal(1);
    expect(consumer.stream(id, C2S).holes).to.deep.equal([{ offset: 0, length: 10, cause: 'missing' }]);
    expect(consumer.stream(id, C2S).bytes.length).to.equal(1210);
    table.ingestBlock(GW, [data(id, C2S, 0, Buffer.alloc(10, 9), 4n)]);
    expect(table.stats).to.include({ duplicateChunks: 1, bufferedBytes: 0 });
  });

  it('forces flushes of the fullest flows when all flows together hold more than the total cap', () => {
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxTotalBufferBytes: 1000 });
    const [a, b, c] = [flowId(6), flowId(7), flowId(8)];
    table.ingestBlock(GW, [open(a), open(b), open(c), data(a, C2S, 5, Buffer.alloc(300), 2n), data(b, C2S, 5, Buffer.alloc(500), 2n)]);
    expect(table.stats.forcedFlushesTotalCap).to.equal(0);
    table.ingestBlock(GW, [data(c, S2C, 5, Buffer.alloc(400), 3n)]);
    expect(table.stats.forcedFlushesTotalCap).to.equal(1);
    expect(consumer.stream(b, C2S).holes).to.have.length(1);
    expect(consumer.stream(a, C2S).bytes.length).to.equal(0);
    expect(table.stats.bufferedBytes).to.equal(700);
  });

  it('holds DATA that comes before its FLOW_OPEN in the same object, and orphans DATA of flows never opened', () => {
    const id = flowId(9);
    const stranger = flowId(10);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    const early = Buffer.from('early bytes');
    table.ingestBlock(GW, [data(id, C2S, 0, early, 5n), data(stranger, C2S, 0, Buffer.alloc(33), 5n)]);
    early.fill(0); // the block is gone: the table must have kept its own copy
    expect(consumer.events).to.have.length(0);
    table.ingestBlock(GW, [open(id, { tsNs: 4n }), data(id, C2S, 11, Buffer.from('!'), 6n)]);
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('early bytes!');
    table.endOfObject(GW);
    expect(table.stats).to.include({ orphanRecords: 1, orphanBytes: 33, bufferedBytes: 0, flowsOpened: 1 });
    expect(consumer.opened.map((f) => f.key)).to.deep.equal([id.toString('hex')]);
  });

  it('hands in-order data on without copying, and copies what it holds past the block', () => {
    const id = flowId(11);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    const block = Buffer.from('0123456789abcdefghij');
    table.ingestBlock(GW, [open(id), data(id, C2S, 0, block.subarray(0, 10), 2n), data(id, C2S, 15, block.subarray(15, 20), 3n)]);
    expect(consumer.rawPayloads[0]!.buffer).to.equal(block.buffer);
    block.fill(0x2e);
    table.ingestBlock(GW, [data(id, C2S, 10, Buffer.from('abcde'), 4n)]);
    expect(consumer.stream(id, C2S).bytes.toString()).to.equal('0123456789abcdefghij');
  });

  it('clamps a late chunk to the flow\'s last time, so times never go back', () => {
    const id = flowId(12);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 100n }), data(id, S2C, 0, Buffer.from('b'), 300n)]);
    table.ingestBlock(GW, [data(id, C2S, 0, Buffer.from('a'), 200n), data(id, S2C, 1, Buffer.from('c'), 50n)]);
    table.ingestBlock(GW, [close(id, CloseReason.FinFromClient, 1, 2, 10n)]);
    table.endOfObject(GW);
    expect(tsOf(consumer)).to.deep.equal([300n, 300n, 300n, 300n]);
  });

  it('closes every flow at closeAll, missing bytes as holes and reason undefined', () => {
    const id = flowId(13);
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(id, { tsNs: 1n }), data(id, C2S, 0, Buffer.alloc(10), 2n), data(id, C2S, 20, Buffer.alloc(10), 3n)]);
    table.endOfObject(GW);
    table.closeAll();
    expect(consumer.stream(id, C2S).holes).to.deep.equal([{ offset: 10, length: 10, cause: 'missing' }]);
    expect(consumer.of(id).at(-1)).to.deep.equal({ kind: 'close', tsNs: 3n, reason: undefined });
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
    expect(table.stats).to.include({ flowsOpened: 1, lateRecords: 2, orphanRecords: 0 });
  });

  it('closes the flows idle for a given time of their gateway\'s clock, and only those', () => {
    const [quiet, busy] = [flowId(16), flowId(17)];
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [open(quiet, { tsNs: 1n }), open(busy, { tsNs: 1n }), data(quiet, C2S, 0, Buffer.from('q'), 5n), data(busy, C2S, 0, Buffer.from('b'), 50n)]);
    expect(table.closeIdle('gw-other', 30n), 'another gateway has no flows').to.equal(0);
    expect(table.closeIdle(GW, 30n), 'no record for 30 ns before the gateway\'s newest (50)').to.equal(1);
    expect(consumer.of(quiet).at(-1)).to.deep.equal({ kind: 'close', tsNs: 5n, reason: undefined });
    expect(consumer.of(busy).map((e) => e.kind)).to.deep.equal(['data']);
    expect(table.stats).to.include({ flowsOpen: 1, flowsClosed: 1, flowsClosedIdle: 1 });
    expect(table.closeGateway(GW), 'a gateway gone quiet closes what it still has').to.equal(1);
    expect(consumer.of(busy).at(-1)).to.deep.equal({ kind: 'close', tsNs: 50n, reason: undefined });
    expect(table.stats).to.include({ flowsOpen: 0, flowsClosed: 2, flowsClosedIdle: 2 });
  });

  it('merges the flows of one block by time, each open before its events', () => {
    const [a, b] = [flowId(0x18), flowId(0x19)];
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer);
    table.ingestBlock(GW, [
      open(a, { tsNs: 1n }), data(a, C2S, 0, Buffer.from('a1'), 10n), data(a, S2C, 0, Buffer.from('a2'), 30n),
      data(b, C2S, 0, Buffer.from('b1'), 20n), open(b, { tsNs: 15n }), data(b, S2C, 0, Buffer.from('b2'), 40n),
    ]);
    expect(consumer.calls).to.deep.equal(['open 18', 'data 18 10', 'open 19', 'data 19 20', 'data 18 30', 'data 19 40']);
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
});
