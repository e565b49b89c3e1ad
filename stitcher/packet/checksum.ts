/**
 * The Internet checksum (RFC 1071): the one's-complement sum of big-endian
 * 16-bit words. Sums are kept "partial" (an unfolded number) so that a header
 * and a payload living in different buffers are each summed once, in place.
 * Bytes in a WebAssembly memory from allocateSummable are summed there with
 * SIMD; all other bytes by the JS loop below.
 */
import { wasmSummerFor } from './wasm-sum.js';

/** Words summed between folds, so the running sum stays far below 2^53. */
const WORDS_PER_FOLD = 1 << 20;
/** Below this length the per-byte loop is cheaper than setting up a word view. */
const MIN_WORD_VIEW = 32;

/**
 * Adds the bytes `buf[start, end)` to a partial sum. Pieces may be chained in
 * order; every piece but the last must have an even length (an odd last byte is
 * padded with zero, as the checksum defines).
 */
export function sumBytes(buf: Buffer, start = 0, end = buf.length, partial = 0): number {
  if (end - start < MIN_WORD_VIEW) return partial + sumByteByByte(buf, start, start, end);
  const summer = wasmSummerFor(buf);
  // It sums little-endian words: the same one's complement sum, byte-swapped (RFC 1071 2(B)).
  if (summer !== undefined) return partial + swap16(summer(buf.byteOffset + start, end - start));
  // The bulk is read as aligned native (little-endian) 32-bit words. The one's
  // complement sum does not care about byte order except for a final byte swap
  // (RFC 1071 2(B)), and 2^16 = 1 (mod 2^16 - 1) lets a 32-bit word stand for two 16-bit ones.
  const head = (4 - ((buf.byteOffset + start) & 3)) & 3;
  const bodyStart = start + head;
  const words = (end - bodyStart) >>> 2;
  const bodyEnd = bodyStart + 4 * words;
  let sum = partial + sumByteByByte(buf, start, start, bodyStart) + sumByteByByte(buf, start, bodyEnd, end);
  const little = sumWords(wordView(buf), (buf.byteOffset + bodyStart) >>> 2, words);
  // Read little-endian, the body's sum comes out byte-swapped, unless the body
  // starts at an odd position of the piece, which swaps it back.
  sum += (head & 1) === 0 ? swap16(little) : little;
  return sum;
}

/**
 * A word view of the whole memory under `buf`, kept for the next call: packets
 * are mostly views of one large block, and a view made per packet costs more
 * than summing a small one.
 */
let lastMemory: ArrayBufferLike | undefined;
let lastView: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordView(buf: Buffer): Uint32Array {
  // A resizable buffer may have grown since: the view must cover it all.
  if (buf.buffer !== lastMemory || lastView.length !== buf.buffer.byteLength >>> 2) {
    lastMemory = buf.buffer;
    lastView = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  }
  return lastView;
}

/** The folded sum of `count` words from `first`, two running sums to keep the adds independent. */
function sumWords(view: Uint32Array, first: number, count: number): number {
  let total = 0;
  for (let i = first, stop = first + count; i < stop;) {
    const chunkEnd = Math.min(stop, i + WORDS_PER_FOLD);
    let a = 0;
    let b = 0;
    for (; i + 1 < chunkEnd; i += 2) {
      a += view[i]!;
      b += view[i + 1]!;
    }
    if (i < chunkEnd) a += view[i++]!;
    total = fold(total + fold(a) + fold(b));
  }
  return total;
}

/** Bytes one at a time, each weighted by its position's parity relative to `origin`. */
function sumByteByByte(buf: Buffer, origin: number, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += ((i - origin) & 1) === 0 ? buf[i]! << 8 : buf[i]!;
  return sum;
}

function swap16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

/** Folds a partial sum to 16 bits (still not complemented). */
export function fold(partial: number): number {
  let sum = partial;
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for a partial sum: folded and complemented. */
export function finishChecksum(partial: number): number {
  return ~fold(partial) & 0xffff;
}

/** The checksum of one buffer range; over a range that includes a valid checksum field it is 0. */
export function internetChecksum(buf: Buffer, start = 0, end = buf.length): number {
  return finishChecksum(sumBytes(buf, start, end));
}
