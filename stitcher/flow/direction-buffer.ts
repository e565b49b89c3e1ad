/**
 * One direction of one flow during reassembly: the chunks and GAP marks held
 * until the flow releases them, the position up to which the stream has been
 * handed on, and the direction's account.
 *
 * Held chunks wait in offset order; once the stream reaches a chunk's offset it
 * becomes active, and the active chunks are ordered by time (heaps: O(log n)
 * per record, whatever order the records came in). At release the stream is
 * cut canonically: each byte is taken from the earliest chunk that carries it
 * (a re-send or an overlapping repeat is later than the first copy), ties
 * going to the lower offset, the longer chunk, then the lesser bytes. A piece
 * ends where its chunk ends or where an earlier chunk begins. So what is
 * handed on, where it is cut and the time each piece carries depend only on
 * the set of records, never on the order in which they were read.
 */
import type { Direction } from '../format/records.js';
import type { FlowDataEvent, FlowHoleEvent } from './events.js';
import type { FlowTableStats } from './flow-stats.js';
import type { HoldArena, Slab } from './hold-arena.js';
import { MinHeap } from './min-heap.js';

interface Chunk {
  readonly offset: number;
  readonly end: number;
  payload: Buffer;
  readonly tsNs: bigint;
  /** False while `payload` is a view into the block being ingested. */
  owned: boolean;
  /** The arena slab `payload` was copied into, released when the chunk is gone. */
  slab: Slab | undefined;
  /** Taken off both heaps (handed on or dropped): its view need not be kept. */
  gone: boolean;
  /** Bytes of it handed on (the bytes it was the first to carry). */
  taken: number;
}

interface GapMark {
  readonly offset: number;
  readonly end: number;
  readonly tsNs: bigint;
}

/**
 * Where every DATA byte of a direction went. While the flow is open:
 * tapped = exported + duplicate + trimmed + late + heldBytes; at its close
 * heldBytes is 0, and with FLOW_CLOSE's final length
 * holeBytes = finalLength - exported.
 */
export interface DirectionAccount {
  /** DATA payload bytes read for this direction. */
  tapped: number;
  /** Bytes handed on. */
  exported: number;
  /** Bytes already held or handed on: repeats, overlapping re-sends, objects read again after a resume. */
  duplicate: number;
  /** Bytes past the final length that FLOW_CLOSE gave. */
  trimmed: number;
  /** Bytes that came after the stream had been given up past them (a memory cap forced a hole). */
  late: number;
  /** Bytes reported missing: GAP records and bytes that never came. */
  holeBytes: number;
  /** Holes reported (each a range of missing bytes). */
  holes: number;
}

export function emptyAccount(): DirectionAccount {
  return { tapped: 0, exported: 0, duplicate: 0, trimmed: 0, late: 0, holeBytes: 0, holes: 0 };
}

/** Ranges given up under memory pressure remembered per direction, to tell late bytes from repeats. */
const GIVEN_UP_REMEMBERED = 32;

/** Which chunk carries a byte both carry (see the file comment). */
function carriesFirst(a: Chunk, b: Chunk): boolean {
  if (a.tsNs !== b.tsNs) return a.tsNs < b.tsNs;
  if (a.offset !== b.offset) return a.offset < b.offset;
  if (a.end !== b.end) return a.end > b.end;
  return Buffer.compare(a.payload, b.payload) < 0;
}

/** Waiting chunks by offset; among equal offsets the one that carries first. */
function startsFirst(a: Chunk, b: Chunk): boolean {
  return a.offset !== b.offset ? a.offset < b.offset : carriesFirst(a, b);
}

function gapBefore(a: GapMark, b: GapMark): boolean {
  if (a.offset !== b.offset) return a.offset < b.offset;
  if (a.tsNs !== b.tsNs) return a.tsNs < b.tsNs;
  return a.end > b.end;
}

/**
 * What a direction holds while it holds anything. Dropped as soon as it is
 * empty, so an idle open flow (most of them, at 100,000 flows) costs no heaps.
 */
class Holdings {
  /** Chunks the stream has not reached yet, by offset. */
  readonly waiting = new MinHeap<Chunk>(startsFirst);
  /** Chunks that start at or before `next`, by who carries first. */
  readonly active = new MinHeap<Chunk>(carriesFirst);
  readonly gaps = new MinHeap<GapMark>(gapBefore);

  get empty(): boolean {
    return this.waiting.size === 0 && this.active.size === 0 && this.gaps.size === 0;
  }
}

/** Shared by every direction that holds nothing: only read, never pushed to. */
const NOTHING_HELD = new Holdings();

export class DirectionBuffer {
  /** Offset of the next byte to hand on. */
  next = 0;
  /** The direction's final length, once FLOW_CLOSE said it. */
  finalLength: number | undefined;
  /** Payload bytes held in chunks not yet handed on (repeats included until they are resolved). */
  heldBytes = 0;
  // The account's counts, as fields of their own: an account object per direction adds up at 100,000 open flows.
  private tapped = 0;
  private exported = 0;
  private duplicate = 0;
  private trimmed = 0;
  private late = 0;
  private holeBytes = 0;
  private holes = 0;
  private held = NOTHING_HELD;
  /** Chunks placed as views during the current block. */
  private views: Chunk[] | undefined;
  private givenUp: [number, number][] | undefined;

  /** `totals` adds up every direction's account, held bytes and holes by cause, for the whole table. */
  constructor(readonly dir: Direction, private readonly totals: FlowTableStats, private readonly arena: HoldArena) {}

  private get waiting(): MinHeap<Chunk> {
    return this.held.waiting;
  }

  private get active(): MinHeap<Chunk> {
    return this.held.active;
  }

  private get gaps(): MinHeap<GapMark> {
    return this.held.gaps;
  }

  /** The holdings to push to, made when the direction starts holding again. */
  private holdings(): Holdings {
    if (this.held === NOTHING_HELD) this.held = new Holdings();
    return this.held;
  }

  /** Where every DATA byte of this direction went so far (a copy). */
  get account(): DirectionAccount {
    const { tapped, exported, duplicate, trimmed, late, holeBytes, holes } = this;
    return { tapped, exported, duplicate, trimmed, late, holeBytes, holes };
  }

  private count(field: keyof DirectionAccount, n: number): void {
    (this as unknown as DirectionAccount)[field] += n;
    this.totals[field] += n;
  }

  private hold(bytes: number, items: number): void {
    this.heldBytes += bytes;
    this.totals.bufferedBytes += bytes;
    this.totals.heldItems += items;
  }

  /** Chunks and GAP marks held (each costs bookkeeping memory beside its bytes). */
  get heldItems(): number {
    return this.waiting.size + this.active.size + this.gaps.size;
  }

  /** Places a chunk; `owned` false means it must be copied before its block is gone (see keepViews). */
  place(offset: number, payload: Buffer, tsNs: bigint, owned: boolean): void {
    const length = payload.length;
    this.count('tapped', length);
    let end = offset + length;
    const final = this.finalLength;
    if (final !== undefined && end > final) {
      this.count('trimmed', end - Math.max(offset, final));
      end = final;
    }
    let start = offset;
    if (start < this.next && start < end) {
      this.countPassed(start, Math.min(end, this.next));
      start = this.next;
    }
    if (end <= start) return;
    const piece = start === offset && end - offset === length ? payload : payload.subarray(start - offset, end - offset);
    const chunk: Chunk = { offset: start, end, payload: piece, tsNs, owned, slab: undefined, gone: false, taken: 0 };
    this.holdings().waiting.push(chunk);
    this.hold(end - start, 1);
    if (!owned) (this.views ??= []).push(chunk);
  }

  /** Records a GAP: bytes the gateway lost, reported when the stream reaches them. */
  addGap(offset: number, length: number, tsNs: bigint): void {
    const end = offset + length;
    if (length <= 0 || end <= this.next) return;
    this.holdings().gaps.push({ offset, end, tsNs });
    this.hold(0, 1);
  }

  /** Makes the chunks still held independent of the current block (one copy each). */
  keepViews(): void {
    const views = this.views;
    if (views === undefined) return;
    for (const chunk of views) {
      if (chunk.gone || chunk.owned) continue;
      const copy = this.arena.copy(chunk.payload);
      chunk.payload = copy.bytes;
      chunk.slab = copy.slab;
      chunk.owned = true;
    }
    this.views = undefined;
  }

  /** Whether anything is held: bytes, or GAP marks not yet reached. */
  get holding(): boolean {
    return !this.held.empty;
  }

  /** The time of what can be handed on at `next` now (data, or a GAP's hole), else undefined. */
  readyTs(): bigint | undefined {
    const chunk = this.carrier();
    if (chunk !== undefined) return chunk.tsNs;
    const gap = this.gaps.peek();
    if (gap !== undefined && gap.offset <= this.next) return gap.tsNs;
    return undefined;
  }

  /** Hands on what readyTs() announced; `floorTs` clamps its time. */
  takeReady(floorTs: bigint): FlowDataEvent | FlowHoleEvent {
    const chunk = this.carrier();
    if (chunk !== undefined) return this.takePiece(chunk, floorTs);
    const gap = this.gaps.peek()!;
    const end = Math.min(gap.end, this.waiting.peek()?.offset ?? Infinity, this.finalLength ?? Infinity);
    if (end >= gap.end) this.dropGap();
    return this.hole(end, max(gap.tsNs, floorTs), 'gap');
  }

  /** The bytes of `chunk` from `next` up to its end, or to where a chunk that carries first begins. */
  private takePiece(chunk: Chunk, floorTs: bigint): FlowDataEvent {
    let end = Math.min(chunk.end, this.finalLength ?? Infinity);
    for (let next = this.waiting.peek(); next !== undefined && next.offset < end; next = this.waiting.peek()) {
      if (carriesFirst(next, chunk)) {
        end = next.offset;
        break;
      }
      this.active.push(this.waiting.pop()!);
    }
    const offset = this.next;
    const payload = chunk.payload.subarray(offset - chunk.offset, end - chunk.offset);
    this.next = end;
    chunk.taken += payload.length;
    this.hold(-payload.length, 0);
    this.count('exported', payload.length);
    return { kind: 'data', dir: this.dir, tsNs: max(chunk.tsNs, floorTs), offset: BigInt(offset), payload };
  }

  /** The time of the first item held beyond a missing range, else undefined. */
  heldTs(): bigint | undefined {
    if (this.carrier() !== undefined) return undefined;
    const chunk = this.waiting.peek();
    const gap = this.gaps.peek();
    if (chunk === undefined) return gap?.tsNs;
    if (gap === undefined || chunk.offset <= gap.offset) return chunk.tsNs;
    return gap.tsNs;
  }

  /**
   * Gives up on the bytes missing before the next held item (or, when nothing
   * is held, before the final length). `forced`: a memory cap made it give up
   * early, so bytes of that range that come later are counted as late.
   */
  takeMissing(floorTs: bigint, forced: boolean): FlowHoleEvent | undefined {
    if (this.carrier() !== undefined) return undefined;
    const chunk = this.waiting.peek();
    const gap = this.gaps.peek();
    const end = Math.min(chunk?.offset ?? Infinity, gap?.offset ?? Infinity, this.finalLength ?? Infinity);
    if (end === Infinity || end <= this.next) return undefined;
    const ts = chunk !== undefined && chunk.offset === end ? chunk.tsNs : gap !== undefined && gap.offset === end ? gap.tsNs : floorTs;
    if (forced) this.rememberGivenUp(this.next, end);
    return this.hole(end, max(ts, floorTs), 'missing');
  }

  /**
   * The chunk that carries the byte at `next`, if one is held: chunks the stream
   * reached become active, chunks it passed (or that lie past the final length)
   * are dropped.
   */
  private carrier(): Chunk | undefined {
    const final = this.finalLength ?? Infinity;
    for (let chunk = this.waiting.peek(); chunk !== undefined && (chunk.offset <= this.next || chunk.offset >= final); chunk = this.waiting.peek()) {
      this.waiting.pop();
      if (chunk.offset >= final) this.drop(chunk);
      else this.active.push(chunk);
    }
    for (let chunk = this.active.peek(); chunk !== undefined; chunk = this.active.peek()) {
      if (chunk.end > this.next && this.next < final) return chunk;
      this.active.pop();
      this.drop(chunk);
    }
    for (let gap = this.gaps.peek(); gap !== undefined && (Math.min(gap.end, final) <= this.next || gap.offset >= final); gap = this.gaps.peek()) {
      this.dropGap();
    }
    if (this.held.empty) this.held = NOTHING_HELD;
    return undefined;
  }

  /** A chunk leaves: what it did not hand on was carried by others (repeats) or lies past the final length. */
  private drop(chunk: Chunk): void {
    chunk.gone = true;
    if (chunk.slab !== undefined) {
      this.arena.release(chunk.slab);
      chunk.slab = undefined;
    }
    const length = chunk.end - chunk.offset;
    const final = this.finalLength ?? Infinity;
    const past = Math.max(0, chunk.end - Math.max(chunk.offset, final));
    this.hold(-(length - chunk.taken), -1);
    if (past > 0) this.count('trimmed', past);
    if (length - chunk.taken - past > 0) this.count('duplicate', length - chunk.taken - past);
  }

  private hole(end: number, tsNs: bigint, cause: 'gap' | 'missing'): FlowHoleEvent {
    const offset = this.next;
    this.next = end;
    this.count('holeBytes', end - offset);
    this.count('holes', 1);
    if (cause === 'gap') this.totals.gapHoleBytes += end - offset;
    else this.totals.missingHoleBytes += end - offset;
    return { kind: 'hole', dir: this.dir, tsNs, offset: BigInt(offset), length: BigInt(end - offset), cause };
  }

  /** Bytes [start, end) below `next`: late where a cap gave them up, repeats otherwise. */
  private countPassed(start: number, end: number): void {
    let late = 0;
    for (const [from, to] of this.givenUp ?? []) late += Math.max(0, Math.min(end, to) - Math.max(start, from));
    if (late > 0) this.count('late', late);
    this.count('duplicate', end - start - late);
  }

  private dropGap(): void {
    this.gaps.pop();
    this.hold(0, -1);
  }

  private rememberGivenUp(start: number, end: number): void {
    const givenUp = (this.givenUp ??= []);
    givenUp.push([start, end]);
    if (givenUp.length > GIVEN_UP_REMEMBERED) givenUp.shift();
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
