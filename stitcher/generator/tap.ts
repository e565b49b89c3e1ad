/**
 * What the gateway records about one connection: FLOW_OPEN, the bytes of
 * both directions as DATA at their stream offsets, FLOW_CLOSE with the
 * final counts. The faults a real gateway shows are injected here, seeded:
 * reads re-split at other points, repeated chunks, overlapping re-sends,
 * and a lost range written as GAP instead of DATA.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { CloseReason, Direction, RecordType } from '../format/records.js';
import type { CtapRecord } from '../format/records.js';
import type { VirtualClock } from './clock.js';
import type { GapManifest } from './options.js';
import type { FlowPlan } from './plan.js';
import type { SeededRandom } from './random.js';

/** Where a tap puts its records: the gateway that owns the flow. */
export interface RecordSink {
  add(record: CtapRecord): void;
}

export interface TapFaults {
  readonly resplitShare: number;
  readonly duplicateShare: number;
  readonly overlapShare: number;
  /** A gap in the server-to-client stream starting at this offset, or undefined for none. */
  readonly gapOffset?: number;
  readonly gapBytes: number;
  /** Server-to-client reads left out without a GAP record (the 2nd, 4th, ... read): chunks the gateway never wrote. @default 0 */
  readonly dropReads?: number;
}

interface Piece {
  readonly offset: number;
  readonly bytes: Buffer;
}

export class FlowTap {
  readonly gaps: GapManifest[] = [];
  /** Ranges left out without a GAP record (see TapFaults.dropReads). */
  readonly dropped: GapManifest[] = [];
  private readonly reads = [0, 0];
  private dropsLeft: number;
  private readonly counts = [0, 0];
  private readonly hashes: [Hash, Hash] = [createHash('sha256'), createHash('sha256')];
  private readonly lastPiece: (Piece | undefined)[] = [undefined, undefined];
  private gapDone = false;
  private closed = false;

  constructor(
    private readonly plan: FlowPlan,
    private readonly sink: RecordSink,
    private readonly clock: VirtualClock,
    private readonly random: SeededRandom,
    private readonly faults: TapFaults,
  ) {
    this.dropsLeft = faults.dropReads ?? 0;
  }

  get bytesC2s(): number {
    return this.counts[Direction.ClientToServer]!;
  }

  get bytesS2c(): number {
    return this.counts[Direction.ServerToClient]!;
  }

  open(): void {
    const plan = this.plan;
    this.sink.add({
      type: RecordType.FlowOpen,
      flowId: plan.flowId,
      tsNs: this.clock.now(),
      ipVersion: plan.ipVersion,
      l4: 6,
      clientIp: plan.clientIp,
      clientPort: plan.clientPort,
      serverIp: plan.serverIp,
      serverPort: plan.serverPort,
      tags: plan.tags,
    });
  }

  /** One socket read, as it was forwarded. The buffer is kept by reference until its object is written. */
  data(dir: Direction, chunk: Buffer): void {
    const offset = this.counts[dir]!;
    this.counts[dir] = offset + chunk.length;
    this.hashes[dir].update(chunk);
    this.clock.advanceBytes(chunk.length);
    if (this.dropsRead(dir, offset, chunk.length)) return;
    for (const piece of this.withoutGap(dir, { offset, bytes: chunk })) this.emitPiece(dir, piece);
  }

  /** Writes FLOW_CLOSE once; later calls do nothing. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.add({
      type: RecordType.FlowClose,
      flowId: this.plan.flowId,
      tsNs: this.clock.now(),
      reason,
      bytesC2s: BigInt(this.bytesC2s),
      bytesS2c: BigInt(this.bytesS2c),
    });
  }

  /** SHA-256 (hex) of everything forwarded in `dir`; call once, after close. */
  digest(dir: Direction): string {
    return this.hashes[dir].digest('hex');
  }

  /** Whether this read is one the gateway leaves out without a word (every other server-to-client read, while drops are left). */
  private dropsRead(dir: Direction, offset: number, length: number): boolean {
    const n = ++this.reads[dir]!;
    if (dir !== Direction.ServerToClient || this.dropsLeft === 0 || n % 2 !== 0) return false;
    const gapOffset = this.faults.gapOffset;
    if (gapOffset !== undefined && !this.gapDone && offset + length > gapOffset) return false;
    this.dropsLeft--;
    this.dropped.push({ dir: 's2c', offset, length });
    // An overlap must never re-send bytes into the dropped range.
    this.lastPiece[dir] = undefined;
    return true;
  }

  /** Cuts the lost range out of a read and writes its GAP record. */
  private withoutGap(dir: Direction, piece: Piece): Piece[] {
    const gapOffset = this.faults.gapOffset;
    const end = piece.offset + piece.bytes.length;
    if (gapOffset === undefined || this.gapDone || dir !== Direction.ServerToClient || end <= gapOffset) return [piece];
    this.gapDone = true;
    const start = Math.max(gapOffset, piece.offset);
    const length = Math.min(this.faults.gapBytes, end - start);
    this.sink.add({
      type: RecordType.Gap,
      flowId: this.plan.flowId,
      tsNs: this.clock.now(),
      dir,
      offset: BigInt(start),
      length: BigInt(length),
    });
    this.gaps.push({ dir: 's2c', offset: start, length });
    const before = piece.bytes.subarray(0, start - piece.offset);
    const after = piece.bytes.subarray(start - piece.offset + length);
    const kept: Piece[] = [];
    if (before.length > 0) kept.push({ offset: piece.offset, bytes: before });
    if (after.length > 0) kept.push({ offset: start + length, bytes: after });
    // An overlap must never re-send bytes across the hole.
    this.lastPiece[dir] = undefined;
    return kept;
  }

  private emitPiece(dir: Direction, piece: Piece): void {
    const faults = this.faults;
    const previous = this.lastPiece[dir];
    if (previous !== undefined && previous.offset + previous.bytes.length === piece.offset && this.random.chance(faults.overlapShare)) {
      this.emitOverlap(dir, previous, piece);
    }
    const parts = this.random.chance(faults.resplitShare) ? resplit(piece, this.random) : [piece];
    for (const part of parts) {
      this.emitData(dir, part);
      if (this.random.chance(faults.duplicateShare)) this.emitData(dir, part);
    }
    this.lastPiece[dir] = piece;
  }

  /** The tail of the previous read and the head of this one, as one re-sent record (a copy: rare). */
  private emitOverlap(dir: Direction, previous: Piece, piece: Piece): void {
    const tail = previous.bytes.subarray(Math.floor(previous.bytes.length / 2));
    const head = piece.bytes.subarray(0, Math.ceil(piece.bytes.length / 2));
    if (tail.length === 0 || head.length === 0) return;
    this.emitData(dir, { offset: piece.offset - tail.length, bytes: Buffer.concat([tail, head]) });
  }

  private emitData(dir: Direction, piece: Piece): void {
    this.sink.add({
      type: RecordType.Data,
      flowId: this.plan.flowId,
      tsNs: this.clock.now(),
      dir,
      offset: BigInt(piece.offset),
      payload: piece.bytes,
    });
  }
}

/** Two or three pieces at random cut points (views, no copies). */
function resplit(piece: Piece, random: SeededRandom): Piece[] {
  const length = piece.bytes.length;
  if (length < 3) return [piece];
  const cuts = [random.int(1, length - 1)];
  if (length > 16 && random.chance(0.5)) cuts.push(random.int(1, length - 1));
  cuts.sort((a, b) => a - b);
  const parts: Piece[] = [];
  let start = 0;
  for (const cut of [...cuts, length]) {
    if (cut > start) parts.push({ offset: piece.offset + start, bytes: piece.bytes.subarray(start, cut) });
    start = cut;
  }
  return parts;
}
