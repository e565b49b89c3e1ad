/**
 * One flow being reassembled: both directions, the close once seen, and the
 * hand-on of events to the consumer, both directions merged by time and the
 * time clamped so it never goes back.
 */
import { Direction, type CloseReason } from '../format/records.js';
import { DirectionBuffer } from './direction-buffer.js';
import type { FlowConsumer, FlowDataEvent, FlowEvent, FlowHoleEvent, FlowIdentity } from './events.js';
import type { FlowTableStats } from './flow-stats.js';

/**
 * How far a drain goes. 'ready': only what is contiguous. 'flush': also gives
 * up on bytes missing before held data (a cap was hit). 'final': also the
 * missing tail up to FLOW_CLOSE's lengths (the flow is over).
 */
export type DrainMode = 'ready' | 'flush' | 'final';

export interface SeenClose {
  readonly reason: CloseReason;
  readonly tsNs: bigint;
}

export class FlowState {
  readonly directions: readonly [DirectionBuffer, DirectionBuffer] = [
    new DirectionBuffer(Direction.ClientToServer), new DirectionBuffer(Direction.ServerToClient),
  ];
  /** Time of the last event handed on: later events never go before it. */
  lastTs: bigint;
  close: SeenClose | undefined;
  /** Latest record time seen for this flow (for idle expiry). */
  lastRecordTs: bigint;
  private announced = false;

  constructor(readonly identity: FlowIdentity) {
    this.lastTs = identity.open.tsNs;
    this.lastRecordTs = identity.open.tsNs;
  }

  /**
   * A flow carried over from a checkpoint: each direction goes on at the offset it
   * was exported to (bytes below it are duplicates) and time never goes before it.
   */
  resumeAt(exported: readonly [number, number], lastTs: bigint, lastRecordTs: bigint): void {
    this.directions[0].next = exported[0];
    this.directions[1].next = exported[1];
    this.lastTs = lastTs;
    this.lastRecordTs = lastRecordTs;
  }

  get bufferedBytes(): number {
    return this.directions[0].bufferedBytes + this.directions[1].bufferedBytes;
  }

  /** Tells the consumer about the flow, once, before any of its events. */
  announce(consumer: FlowConsumer): void {
    if (this.announced) return;
    this.announced = true;
    consumer.openFlow(this.identity);
  }

  /**
   * The time (clamped) of what this flow would hand on next in 'ready' mode:
   * its open if not yet announced, else its earliest ready event; undefined
   * when nothing is ready. Lets the table merge many flows by time.
   */
  nextReadyTs(): bigint | undefined {
    if (!this.announced) return this.identity.open.tsNs;
    const ts = earliest(this.directions[0].readyTs(), this.directions[1].readyTs());
    return ts === undefined || ts > this.lastTs ? ts : this.lastTs;
  }

  /** Hands on the one thing nextReadyTs() announced. */
  takeNext(consumer: FlowConsumer, stats: FlowTableStats): void {
    if (!this.announced) {
      this.announce(consumer);
      return;
    }
    const before = this.bufferedBytes;
    this.handOn(this.readySide().takeReady(this.lastTs), consumer, stats);
    stats.bufferedBytes -= before - this.bufferedBytes;
  }

  /** Hands on what `mode` allows, keeping the buffered-bytes counter true. */
  drain(mode: DrainMode, consumer: FlowConsumer, stats: FlowTableStats): void {
    this.announce(consumer);
    const [c2s, s2c] = this.directions;
    const before = this.bufferedBytes;
    for (;;) {
      if (c2s.readyTs() !== undefined || s2c.readyTs() !== undefined) {
        this.handOn(this.readySide().takeReady(this.lastTs), consumer, stats);
        continue;
      }
      if (mode === 'ready') break;
      const hole = this.giveUpMissing(mode);
      if (hole === undefined) break;
      this.handOn(hole, consumer, stats);
    }
    stats.bufferedBytes -= before - this.bufferedBytes;
  }

  /** The direction whose ready item is earlier (client first on a tie). */
  private readySide(): DirectionBuffer {
    const [c2s, s2c] = this.directions;
    const a = c2s.readyTs();
    const b = s2c.readyTs();
    return b === undefined || (a !== undefined && a <= b) ? c2s : s2c;
  }

  /** The hole before the earliest held item, or (final) before the end of a direction. */
  private giveUpMissing(mode: DrainMode): FlowHoleEvent | undefined {
    const [c2s, s2c] = this.directions;
    const a = c2s.heldTs();
    const b = s2c.heldTs();
    if (a !== undefined || b !== undefined) {
      const from = b === undefined || (a !== undefined && a <= b) ? c2s : s2c;
      return from.takeMissing(this.lastTs);
    }
    if (mode !== 'final') return undefined;
    return c2s.takeMissing(this.closeTs()) ?? s2c.takeMissing(this.closeTs());
  }

  private closeTs(): bigint {
    return this.close !== undefined && this.close.tsNs > this.lastTs ? this.close.tsNs : this.lastTs;
  }

  private handOn(event: FlowDataEvent | FlowHoleEvent, consumer: FlowConsumer, stats: FlowTableStats): void {
    this.lastTs = event.tsNs;
    if (event.kind === 'data') {
      stats.bytesOut += event.payload.length;
    } else {
      stats.holes++;
      if (event.cause === 'gap') stats.gapHoleBytes += Number(event.length);
      else stats.missingHoleBytes += Number(event.length);
    }
    consumer.flowEvent(this.identity, event);
  }

  /** Drains everything, then hands on the close (reason undefined when no FLOW_CLOSE was seen). */
  finish(consumer: FlowConsumer, stats: FlowTableStats): void {
    this.announce(consumer);
    for (const direction of this.directions) {
      const dropped = direction.dropBeyondFinal();
      stats.overlapBytesTrimmed += dropped;
      stats.bufferedBytes -= dropped;
    }
    this.drain('final', consumer, stats);
    const event: FlowEvent = { kind: 'close', tsNs: this.closeTs(), reason: this.close?.reason };
    this.lastTs = event.tsNs;
    consumer.flowEvent(this.identity, event);
  }
}

function earliest(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  return b === undefined || a <= b ? a : b;
}
