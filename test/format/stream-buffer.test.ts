import { expect } from 'chai';
import { StreamBuffer } from '../../stitcher/format/stream-buffer.js';
import { chunked } from './support.js';

const BYTES = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

describe('format/stream-buffer', () => {
  it('peeks and skips across chunk boundaries, pulling only what is needed', async () => {
    const buffer = new StreamBuffer(chunked(BYTES, 5));
    expect(await buffer.ensure(3), `ensure(3): ${buffer.available} bytes in hand, ended ${buffer.ended}`).to.equal(true);
    expect(buffer.received).to.equal(5);
    expect(buffer.peek(3).toString()).to.equal('012');
    buffer.skip(3);
    expect(await buffer.ensure(9), `ensure(9): ${buffer.available} bytes in hand, ended ${buffer.ended}`).to.equal(true);
    expect(buffer.received).to.equal(15);
    expect(buffer.peek(9).toString()).to.equal('3456789ab');
    expect(buffer.peek(2).toString()).to.equal('34');
    buffer.skip(4);
    expect(buffer.offset).to.equal(7);
    expect(buffer.peek(buffer.available).toString()).to.equal('789abcde');
    expect(await buffer.ensure(100), `ensure(100): ${buffer.available} bytes in hand, ended ${buffer.ended}`).to.equal(false);
    expect(buffer.ended).to.equal(true);
    expect(buffer.peek(buffer.available).toString()).to.equal(BYTES.subarray(7).toString());
  });

  it('finds the first of several magics across chunks', async () => {
    const buffer = new StreamBuffer(chunked(Buffer.from('xxEND1yyBLK1'), 3));
    await buffer.ensure(12);
    expect(buffer.indexOfAny([Buffer.from('BLK1'), Buffer.from('END1')])).to.equal(2);
    buffer.skip(3);
    expect(buffer.indexOfAny([Buffer.from('BLK1'), Buffer.from('END1')])).to.equal(5);
    expect(buffer.indexOfAny([Buffer.from('zzzz')])).to.equal(-1);
  });

  it('keeps a failing source\'s error and counts it as the end', async () => {
    async function* failing() {
      yield Buffer.from('abc');
      throw new Error('boom');
    }
    const buffer = new StreamBuffer(failing());
    expect(await buffer.ensure(10), `ensure(10): ${buffer.available} bytes in hand, ended ${buffer.ended}`).to.equal(false);
    expect(buffer.error?.message).to.equal('boom');
    expect(buffer.peek(3).toString()).to.equal('abc');
  });

  it('counts a source that cannot even start, or gives strings, as failed', async () => {
    const broken = { [Symbol.asyncIterator]: () => { throw new Error('no such object'); } } as unknown as AsyncIterable<Buffer>;
    const first = new StreamBuffer(broken);
    expect(await first.ensure(1), `ensure(1): ${first.available} bytes in hand, ended ${first.ended}`).to.equal(false);
    expect(first.error?.message).to.equal('no such object');
    async function* text() {
      yield 'CTAP';
    }
    const second = new StreamBuffer(text() as unknown as AsyncIterable<Buffer>);
    expect(await second.ensure(1), `ensure(1): ${second.available} bytes in hand, ended ${second.ended}`).to.equal(false);
    expect(second.error?.message).to.equal('source gave a chunk of type string, expected bytes');
  });
});
