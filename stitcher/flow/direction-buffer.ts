/**
 * One direction of one flow during reassembly: chunks placed by offset
 * (duplicates and overlaps cut away, first arrival wins), GAP marks, and the
 * position up to which the stream has been handed on.
 */
import type { Direction } from '../format/records.js';
import type { FlowDataEvent, FlowHoleEvent } from './events.js';

interface Chunk {
  readonly offset: number;
  readonly end: number;
  payload: Buffer;
  readonly tsNs: bigint;
  /** False while `payload` is a view into the block being ingested. */
  owned: boolean;
}

interface GapMark {
  readonly offset: number;
  readonly end: number;
  readonly tsNs: bigint;
}

/** What placing one DATA did, for the flow table's counters. */
export interface Placement {
  accepted: number;
  duplicateBytes: number;
  trimmedBytes: number;
}

export class DirectionBuffer {
  /** Offset of the next byte to hand on. */
  next = 0;
  /** The direction's final length, once FLOW_CLOSE said it. */
  finalLength: number | undefined;
  /** Bytes held in chunks not yet handed on. */
  bufferedBytes = 0;
  private chunks: Chunk[] = [];
  /** Index of the first live chunk (chunks before it were handed on). */
  private first = 0;
  private gaps: GapMark[] = [];
  private views = 0;

  constructor(readonly dir: Direction) {}

  /** Places a chunk; `owned` false means it must be copied before its block is gone (see keepViews). */
  place(offset: number, payload: Buffer, tsNs: bigint, owned: boolean, result: Placement): void {
    let start = offset;
    let end = offset + payload.length;
    if (this.finalLength !== undefined && end > this.finalLength) {
      result.trimmedBytes += end - Math.max(start, this.finalLength);
      end = this.finalLength;
    }
    if (end <= this.next || start >= end) {
      result.duplicateBytes += Math.max(0, end - start);
      return;
    }
    if (start < this.next) {
      result.trimmedBytes += this.next - start;
      start = this.next;
    }
    const chunks = this.chunks;
    const last = chunks.length > this.first ? chunks[chunks.length - 1]! : undefined;
    if (last === undefined || start >= last.end) {
      this.insert(chunks.length, offset, start, end, payload, tsNs, owned, result);
      return;
    }
    this.placeAmong(offset, start, end, payload, tsNs, owned, result);
  }

  /** The slow path: the chunk lands among buffered ones; only the uncovered pieces are kept. */
  private placeAmong(
    offset: number, from: number, end: number, payload: Buffer, tsNs: bigint, owned: boolean, result: Placement,
  ): void {
    const chunks = this.chunks;
    let i = this.firstEndingAfter(from);
    let start = from;
    let covered = 0;
    while (start < end) {
      const c = chunks[i];
      if (c === undefined || c.offset >= end) {
        this.insert(i, offset, start, end, payload, tsNs, owned, result);
        break;
      }
      if (c.offset > start) {
        this.insert(i, offset, start, c.offset, payload, tsNs, owned, result);
        i++;
      }
      covered += Math.min(end, c.end) - Math.max(start, c.offset);
      start = c.end;
      i++;
    }
    if (covered === end - from && covered === payload.length) result.duplicateBytes += covered;
    else result.trimmedBytes += covered;
  }

  private insert(
    at: number, offset: number, start: number, end: number, payload: Buffer, tsNs: bigint, owned: boolean,
    result: Placement,
  ): void {
    const piece = start === offset && end - start === payload.length
      ? payload
      : payload.subarray(start - offset, end - offset);
    const chunk: Chunk = { offset: start, end, payload: piece, tsNs, owned };
    if (at === this.chunks.length) this.chunks.push(chunk);
    else this.chunks.splice(at, 0, chunk);
    if (!owned) this.views++;
    this.bufferedBytes += end - start;
    result.accepted += end - start;
  }

  /** Index of the first live chunk whose end is after `offset` (binary search). */
  private firstEndingAfter(offset: number): number {
    let lo = this.first;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid]!.end <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Records a GAP: bytes the gateway lost, reported when the stream reaches them. */
  addGap(offset: number, length: number, tsNs: bigint): void {
    const end = Math.min(offset + length, this.finalLength ?? Infinity);
    if (end <= this.next || length <= 0) return;
    const mark = { offset, end, tsNs };
    let i = this.gaps.length;
    while (i > 0 && this.gaps[i - 1]!.offset > offset) i--;
    this.gaps.splice(i, 0, mark);
  }

  /** Makes the chunks still held independent of the current block (one copy each). */
  keepViews(): void {
    if (this.views === 0) return;
    for (let i = this.first; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (!chunk.owned) {
        chunk.payload = Buffer.from(chunk.payload);
        chunk.owned = true;
      }
    }
    this.views = 0;
  }

  /** The time of what can be handed on now (data or a GAP at `next`), else undefined. */
  readyTs(): bigint | undefined {
    this.dropPassed();
    const chunk = this.chunks[this.first];
    if (chunk !== undefined && chunk.offset <= this.next) return chunk.tsNs;
    const gap = this.gaps[0];
    if (gap !== undefined && gap.offset <= this.next) return gap.tsNs;
    return undefined;
  }

  /** Hands on what readyTs() announced; `floorTs` clamps its time. */
  takeReady(floorTs: bigint): FlowDataEvent | FlowHoleEvent {
    const chunk = this.chunks[this.first];
    if (chunk !== undefined && chunk.offset <= this.next) {
      this.removeFirstChunk(chunk);
      const payload = chunk.offset < this.next ? chunk.payload.subarray(this.next - chunk.offset) : chunk.payload;
      const offset = this.next;
      this.next = chunk.end;
      return { kind: 'data', dir: this.dir, tsNs: max(chunk.tsNs, floorTs), offset: BigInt(offset), payload };
    }
    const gap = this.gaps[0]!;
    const end = chunk === undefined ? gap.end : Math.min(gap.end, chunk.offset);
    if (end >= gap.end) this.gaps.shift();
    return this.hole(end, max(gap.tsNs, floorTs), 'gap');
  }

  /** The time of the earliest item held beyond a missing range, else undefined. */
  heldTs(): bigint | undefined {
    this.dropPassed();
    const chunk = this.chunks[this.first];
    const gap = this.gaps[0];
    if (chunk === undefined) return gap?.tsNs;
    if (gap === undefined || chunk.offset <= gap.offset) return chunk.tsNs;
    return gap.tsNs;
  }

  /** Gives up on the bytes missing before the next held item (or before the final length). */
  takeMissing(floorTs: bigint): FlowHoleEvent | undefined {
    this.dropPassed();
    const chunk = this.chunks[this.first];
    const gap = this.gaps[0];
    const end = Math.min(chunk?.offset ?? Infinity, gap?.offset ?? Infinity, this.finalLength ?? Infinity);
    if (end === Infinity || end <= this.next) return undefined;
    const ts = chunk !== undefined && chunk.offset === end ? chunk.tsNs : gap !== undefined && gap.offset === end ? gap.tsNs : floorTs;
    return this.hole(end, max(ts, floorTs), 'missing');
  }

  /** Drops chunks and GAP marks at or past the final length (called before the last flush). */
  dropBeyondFinal(): number {
    const final = this.finalLength;
    if (final === undefined) return 0;
    let dropped = 0;
    while (this.chunks.length > this.first && this.chunks[this.chunks.length - 1]!.offset >= final) {
      const chunk = this.chunks.pop()!;
      dropped += chunk.end - chunk.offset;
      this.bufferedBytes -= chunk.end - chunk.offset;
      if (!chunk.owned) this.views--;
    }
    const last = this.chunks.length > this.first ? this.chunks[this.chunks.length - 1]! : undefined;
    if (last !== undefined && last.end > final) {
      dropped += last.end - final;
      this.bufferedBytes -= last.end - final;
      this.chunks[this.chunks.length - 1] = { ...last, end: final, payload: last.payload.subarray(0, final - last.offset) };
    }
    this.gaps = this.gaps.filter((gap) => gap.offset < final);
    return dropped;
  }

  private hole(end: number, tsNs: bigint, cause: 'gap' | 'missing'): FlowHoleEvent {
    const offset = this.next;
    this.next = end;
    return { kind: 'hole', dir: this.dir, tsNs, offset: BigInt(offset), length: BigInt(end - offset), cause };
  }

  /** Forgets chunks and marks the stream has already passed (a hole jumped over them). */
  private dropPassed(): void {
    let chunk = this.chunks[this.first];
    while (chunk !== undefined && chunk.end <= this.next) {
      this.removeFirstChunk(chunk);
      chunk = this.chunks[this.first];
    }
    while (this.gaps.length > 0 && this.gaps[0]!.end <= this.next) this.gaps.shift();
  }

  private removeFirstChunk(chunk: Chunk): void {
    this.bufferedBytes -= chunk.end - chunk.offset;
    if (!chunk.owned) this.views--;
    this.first++;
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.first = 0;
    } else if (this.first >= 1024 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
