/** The reader over a source that reads into the caller's memory: the same events as over chunks, damage included. */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ReadWindow, type DirectSource } from '../../stitcher/format/read-window.js';
import { readCtapObject, type CtapReadEvent } from '../../stitcher/format/reader.js';
import { BlockCodec, type CtapRecord } from '../../stitcher/format/records.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { HEADER, chunked, dataRecords, everyRecord, flipBit, layoutOf, readAll } from './support.js';

interface TestSource extends DirectSource, AsyncIterable<Buffer> {
  readonly reads: number[];
  destroyed: number;
}

/** `bytes` served at most `most` bytes per read, as a file would; also iterable, as the store's stream is. */
function directSource(bytes: Buffer, most = Infinity, failAt = Infinity): TestSource {
  let position = 0;
  const source: TestSource = {
    reads: [],
    destroyed: 0,
    readInto(target, offset, length) {
      if (position >= failAt) return Promise.reject(new Error('EIO: i/o error'));
      const take = Math.min(length, most, bytes.length - position, failAt - position);
      bytes.copy(target, offset, position, position + take);
      position += take;
      source.reads.push(take);
      return Promise.resolve(take);
    },
    destroy() {
      source.destroyed++;
    },
    [Symbol.asyncIterator]: () => chunked(bytes, 1000)[Symbol.asyncIterator](),
  };
  return source;
}

/** What a consumer that copies at each event keeps: views are cloned before the reader goes on. */
function cloneEvent(event: CtapReadEvent): CtapReadEvent {
  if (event.kind !== 'records') return event;
  return { ...event, records: event.records.map(cloneRecord) };
}

function cloneRecord(record: CtapRecord): CtapRecord {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) copy[key] = Buffer.isBuffer(value) ? Buffer.from(value) : value;
  return copy as unknown as CtapRecord;
}

async function eventsOf(source: TestSource, reuseBuffers: boolean): Promise<CtapReadEvent[]> {
  const events: CtapReadEvent[] = [];
  for await (const event of readCtapObject('obj.ctap', source, { reuseBuffers })) events.push(cloneEvent(event));
  return events;
}

/** Blocks of about 600 kB, so that a 2 MiB window wraps several times in one object. */
const LARGE = encodeCtapObject(HEADER, dataRecords(60, 50_000), { codec: BlockCodec.None, blockBytes: 600_000 });
const SMALL = encodeCtapObject(HEADER, [...everyRecord(), ...dataRecords(40, 300)], { codec: BlockCodec.Deflate, blockBytes: 2000 });

describe('format/read-window', () => {
  it('peeks and skips across reads, growing for a structure larger than the window', async () => {
    const bytes = randomBytes(10_000);
    const window = new ReadWindow(directSource(bytes, 700), { windowBytes: 1024, minReadBytes: 16 });
    expect(await window.ensure(10), `ensure(10): ${window.available} bytes in hand, ended ${window.ended}`).to.equal(true);
    expect(window.peek(10)).to.deep.equal(bytes.subarray(0, 10));
    expect(await window.ensure(900), `ensure(900): ${window.available} bytes in hand, ended ${window.ended}`).to.equal(true);
    window.skip(900);
    expect(await window.ensure(3000), `ensure(3000): ${window.available} bytes in hand, ended ${window.ended}`).to.equal(true);
    expect(window.offset).to.equal(900);
    expect(window.peek(3000)).to.deep.equal(bytes.subarray(900, 3900));
    window.skip(3000);
    expect(await window.ensure(20_000), `ensure(20000): ${window.available} bytes in hand, ended ${window.ended}`).to.equal(false);
    expect(window.ended).to.equal(true);
    expect(window.received).to.equal(bytes.length);
    expect(window.peek(window.available)).to.deep.equal(bytes.subarray(3900));
  });

  it('rewrites the same memory only in reuse mode; otherwise views already handed out keep their bytes', async () => {
    const bytes = randomBytes(8192);
    // Earlier suites' readers leave spare windows (larger than 1 KiB) for the next reuse reader: take them first,
    // so this window is a 1 KiB one that must wrap.
    for (let spare = 0; spare < 2; spare++) new ReadWindow(directSource(bytes), { windowBytes: 1024, reuse: true });
    for (const reuse of [false, true]) {
      const window = new ReadWindow(directSource(bytes), { windowBytes: 1024, minReadBytes: 1024, reuse });
      await window.ensure(1000);
      const first = window.peek(1000);
      const kept = Buffer.from(first);
      window.skip(1000);
      await window.ensure(1000);
      expect(window.peek(1000)).to.deep.equal(bytes.subarray(1000, 2000));
      expect(first.buffer === window.peek(1000).buffer, `reuse ${reuse}`).to.equal(reuse);
      expect(first.equals(kept), `reuse ${reuse}`).to.equal(!reuse);
    }
  });

  it('makes every window with the allocator it is given, the first one and the grown ones', async () => {
    const bytes = randomBytes(10_000);
    const made: Buffer[] = [];
    const allocate = (size: number) => {
      const window = Buffer.alloc(size);
      made.push(window);
      return window;
    };
    const window = new ReadWindow(directSource(bytes), { windowBytes: 1024, minReadBytes: 16, allocate });
    expect(await window.ensure(5000), `ensure(5000): ${window.available} bytes in hand, ended ${window.ended}`).to.equal(true);
    expect(made.map((b) => b.length)).to.deep.equal([1024, 5000]);
    expect(window.peek(5000).buffer).to.equal(made[1]!.buffer);
    expect(window.peek(5000)).to.deep.equal(bytes.subarray(0, 5000));
  });

  it('finds a magic among the unread bytes', async () => {
    const window = new ReadWindow(directSource(Buffer.from('xxEND1yyBLK1')));
    await window.ensure(12);
    window.skip(3);
    expect(window.indexOfAny([Buffer.from('BLK1'), Buffer.from('END1')])).to.equal(5);
  });

  it('gives the reader the same events as chunks do, in both modes, whatever the read sizes', async () => {
    for (const object of [SMALL, LARGE]) {
      const expected = (await readAll('obj.ctap', chunked(object, 4096))).events.map(cloneEvent);
      expect(expected.filter((e) => e.kind === 'damage')).to.deep.equal([]);
      for (const most of [1, 7, 65536, Infinity]) {
        if (most < 100 && object === LARGE) continue;
        for (const reuse of [false, true]) {
          const source = directSource(object, most);
          expect(await eventsOf(source, reuse), `read size ${most} reuse ${reuse}`).to.deep.equal(expected);
          expect(source.destroyed).to.equal(1);
        }
      }
    }
  });

  it('reports the same damage as over chunks: flipped bits, truncation, bytes after the end', async () => {
    const layout = layoutOf(LARGE);
    const second = layout.blocks[1]!;
    const variants = [
      flipBit(LARGE, second.offset + 20 + 70_000, 2),
      flipBit(LARGE, second.offset, 1),
      flipBit(LARGE, layout.endOffset + 12),
      LARGE.subarray(0, second.offset + 300_000),
      Buffer.concat([LARGE, Buffer.from('tail')]),
    ];
    for (const [i, object] of variants.entries()) {
      const expected = (await readAll('obj.ctap', chunked(object, 65536))).events.map(cloneEvent);
      expect(expected.some((e) => e.kind === 'damage'), `variant ${i} is damaged`).to.equal(true);
      for (const reuse of [false, true]) {
        expect(await eventsOf(directSource(object, 100_000), reuse), `variant ${i} reuse ${reuse}`).to.deep.equal(expected);
      }
    }
  });

  it('reports a failing source as a read failure at the byte it reached, keeping the blocks before', async () => {
    const layout = layoutOf(LARGE);
    const failAt = layout.blocks[2]!.offset + 1000;
    const source = directSource(LARGE, 65536, failAt);
    const events = await eventsOf(source, true);
    const damage = events.flatMap((e) => (e.kind === 'damage' ? [e.damage] : []));
    expect(damage).to.deep.equal([{ object: 'obj.ctap', offset: failAt, problem: 'read failed: EIO: i/o error' }]);
    expect(events.filter((e) => e.kind === 'records').length).to.equal(2);
    expect(source.destroyed).to.equal(1);
  });

  it('needs no more than one read per block once the window is warm', async () => {
    const source = directSource(LARGE);
    await eventsOf(source, true);
    const blocks = layoutOf(LARGE).blocks.length;
    expect(source.reads.reduce((a, b) => a + b, 0)).to.equal(LARGE.length);
    expect(source.reads.length).to.be.at.most(2 * blocks + 3);
  });
});
