import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { finishChecksum, fold, internetChecksum, sumBytes } from '../../stitcher/packet/checksum.js';
import { referenceChecksum } from '../support/reference-checksum.js';

describe('packet/checksum', () => {
  it('matches the RFC 1071 reference on random buffers of every small length and offset', () => {
    for (let length = 0; length < 70; length++) {
      for (const start of [0, 1, 3]) {
        const buf = randomBytes(start + length + 2);
        const expected = referenceChecksum(buf.subarray(start, start + length));
        expect(internetChecksum(buf, start, start + length), `length ${length} start ${start}`).to.equal(expected);
      }
    }
  });

  it('matches the reference on segment-sized buffers at every alignment', () => {
    const buf = randomBytes(3000);
    for (let start = 0; start < 8; start++) {
      for (const length of [1000, 1459, 1460, 1461, 2999 - start]) {
        const expected = referenceChecksum(buf.subarray(start, start + length));
        expect(internetChecksum(buf, start, start + length), `length ${length} start ${start}`).to.equal(expected);
        const view = buf.subarray(start, start + length);
        expect(internetChecksum(view), `view length ${length} start ${start}`).to.equal(expected);
      }
    }
  });

  it('gives the RFC 1071 example sum 0xddf2', () => {
    const bytes = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(fold(sumBytes(bytes))).to.equal(0xddf2);
  });

  it('chains partial sums of even pieces into the sum of the whole (odd last piece included)', () => {
    const whole = randomBytes(4097);
    const chained = sumBytes(whole, 3000, 4097, sumBytes(whole, 1000, 3000, sumBytes(whole, 0, 1000)));
    expect(finishChecksum(chained)).to.equal(referenceChecksum(whole));
  });

  it('stays exact on a buffer large enough to need intermediate folds', () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 3, 0xff);
    big[17] = 0x12;
    expect(internetChecksum(big)).to.equal(referenceChecksum(big));
  });

  it('sums to zero over data that holds its own checksum', () => {
    const data = randomBytes(64);
    data.writeUInt16BE(0, 10);
    data.writeUInt16BE(internetChecksum(data), 10);
    expect(internetChecksum(data)).to.equal(0);
  });
});
