import { expect } from 'chai';
import { randomBytes, randomFillSync } from 'node:crypto';
import { finishChecksum, internetChecksum, sumBytes } from '../../stitcher/packet/checksum.js';
import { allocateSummable, wasmSummerFor } from '../../stitcher/packet/wasm-sum.js';
import { referenceChecksum } from '../support/reference-checksum.js';

/** Deterministic lengths and offsets, so that a failure can be replayed. */
function* cases(count: number, maxLength: number): Generator<{ start: number; length: number }> {
  let state = 0x9e3779b9;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < count; i++) yield { start: next() % 64, length: next() % maxLength };
}

describe('packet/wasm-sum', () => {
  it('sums buffers it allocated in WebAssembly, and leaves every other buffer to the JS loop', () => {
    const summable = allocateSummable(100_000);
    expect(summable.length).to.be.at.least(100_000);
    expect(wasmSummerFor(summable), 'WebAssembly SIMD summer').to.be.a('function');
    expect(wasmSummerFor(summable.subarray(10, 20)), 'a view of the same memory').to.be.a('function');
    expect(wasmSummerFor(Buffer.alloc(100_000))).to.equal(undefined);
    expect(wasmSummerFor(Buffer.from(summable))).to.equal(undefined);
  });

  it('matches the RFC 1071 reference at every small length and offset, odd lengths included', () => {
    const summable = randomFillSync(allocateSummable(4096));
    for (let length = 0; length < 300; length++) {
      for (let start = 0; start < 18; start++) {
        const view = summable.subarray(start, start + length);
        const expected = referenceChecksum(Buffer.from(view));
        expect(internetChecksum(summable, start, start + length), `length ${length} start ${start}`).to.equal(expected);
        expect(internetChecksum(view), `view length ${length} start ${start}`).to.equal(expected);
      }
    }
  });

  it('matches the JS loop on random lengths and alignments up to several SIMD chunks', () => {
    const summable = randomFillSync(allocateSummable(400_000));
    for (const { start, length } of cases(400, 300_000)) {
      const plain = Buffer.from(summable.subarray(start, start + length));
      expect(internetChecksum(summable, start, start + length), `length ${length} start ${start}`).to.equal(internetChecksum(plain));
    }
  });

  it('keeps every carry where the 32-bit lanes come closest to overflowing (all 0xff, over 1 MiB)', () => {
    const summable = allocateSummable(3 << 20).fill(0xff);
    summable[12345] = 0x12;
    for (const [start, end] of [[0, 3 << 20], [1, (3 << 20) - 1], [7, 65536 + 9], [3, 1 << 20]] as const) {
      expect(internetChecksum(summable, start, end), `[${start}, ${end})`).to.equal(referenceChecksum(Buffer.from(summable.subarray(start, end))));
    }
  });

  it('chains with partial sums from plain buffers (a header here, a payload there)', () => {
    const header = randomBytes(40);
    const summable = randomFillSync(allocateSummable(70_000));
    const payload = summable.subarray(3, 3 + 1461);
    const chained = sumBytes(payload, 0, payload.length, sumBytes(header));
    expect(finishChecksum(chained)).to.equal(referenceChecksum(Buffer.concat([header, payload])));
  });
});
