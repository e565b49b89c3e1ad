/**
 * One flow being reassembled: both directions, the close once seen, and the
 * hand-on of its events one at a time, both directions merged by time (the
 * time clamped so it never goes back), so the flow table can merge many flows.
 */
import { Direction, type CloseReason } from '../format/records.js';
import { DirectionBuffer, type DirectionAccount } from './direction-buffer.js';
import type { FlowConsumer, FlowEvent, FlowHoleEvent, FlowIdentity } from './events.js';
import type { FlowTableStats } from './flow-stats.js';
import type { HoldArena } from './hold-arena.js';

/**
 * How far a release goes.
 * - 'upTo': what is contiguous and no later than the limit (the reorder window has passed it);
 * - 'all': everything contiguous, whatever its time (a memory cap: the order across
 *   directions is no longer waited for);
 * - 'flush': also gives up on bytes missing before held data (a cap again, harder);
 * - 'final': also the missing tail up to FLOW_CLOSE's lengths, then the close (the flow is over).
 */
export type ReleaseMode = 'upTo' | 'all' | 'flush' | 'final';

export interface SeenClose {
  readonly reason: CloseReason;
  readonly tsNs: bigint;
}

/** The next thing a flow hands on: announce it, a direction's ready item, a hole it gives up on, or its close. */
type Step =
  | { readonly kind: 'announce'; readonly ts: bigint }
  | { readonly kind: 'ready'; readonly ts: bigint; readonly from: DirectionBuffer }
  | { readonly kind: 'missing'; readonly ts: bigint; readonly event: FlowHoleEvent }
  | { readonly kind: 'close'; readonly ts: bigint };

export class FlowState {
  readonly directions: readonly [DirectionBuffer, DirectionBuffer];
  /** Time of the last event handed on: later events never go before it. */
  lastTs: bigint;
  close: SeenClose | undefined;
  /** Latest record time seen for this flow (for idle expiry). */
  lastRecordTs: bigint;
  /** Whether the close has been handed on: the flow is done. */
  finished = false;
  private announced = false;
  private step: Step | undefined;

  /** `totals`: the table's counters, which every direction adds its account to; `arena`: where held bytes are copied. */
  constructor(readonly identity: FlowIdentity, totals: FlowTableStats, arena: HoldArena) {
    this.directions = [new DirectionBuffer(Direction.ClientToServer, totals, arena), new DirectionBuffer(Direction.ServerToClient, totals, arena)];
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

  /** Payload bytes held in both directions. */
  get bufferedBytes(): number {
    return this.directions[0].heldBytes + this.directions[1].heldBytes;
  }

  get heldItems(): number {
    return this.directions[0].heldItems + this.directions[1].heldItems;
  }

  /** Whether a release could hand anything on: not yet announced, or something held. */
  get pending(): boolean {
    return !this.announced || this.directions[0].holding || this.directions[1].holding;
  }

  get accounts(): readonly [DirectionAccount, DirectionAccount] {
    return [this.directions[0].account, this.directions[1].account];
  }

  /** Tells the consumer about the flow, once, before any of its events. */
  announce(consumer: FlowConsumer): void {
    if (this.announced) return;
    this.announced = true;
    consumer.openFlow(this.identity);
  }

  /**
   * The time (clamped) of what this flow hands on next under `mode`, or
   * undefined when it has nothing more to hand on now. `limitTs` bounds 'upTo'.
   */
  nextTs(mode: ReleaseMode, limitTs: bigint): bigint | undefined {
    this.step = this.nextStep(mode, limitTs);
    return this.step?.ts;
  }

  /** Hands on the one thing the last nextTs() announced. */
  takeNext(consumer: FlowConsumer): void {
    const step = this.step;
    this.step = undefined;
    if (step === undefined) return;
    switch (step.kind) {
      case 'announce':
        this.announce(consumer);
        return;
      case 'ready':
        this.handOn(step.from.takeReady(this.lastTs), consumer);
        return;
      case 'missing':
        this.handOn(step.event, consumer);
        return;
      case 'close':
        this.finished = true;
        this.lastTs = step.ts;
        consumer.flowEvent(this.identity, { kind: 'close', tsNs: step.ts, reason: this.close?.reason, accounts: this.accounts });
    }
  }

  /** Hands on everything `mode` allows, alone (no other flow to merge with). */
  release(mode: ReleaseMode, limitTs: bigint, consumer: FlowConsumer): void {
    while (this.nextTs(mode, limitTs) !== undefined) this.takeNext(consumer);
  }

  private nextStep(mode: ReleaseMode, limitTs: bigint): Step | undefined {
    if (this.finished) return undefined;
    if (!this.announced) {
      const ts = this.identity.open.tsNs;
      return mode === 'upTo' && ts > limitTs ? undefined : { kind: 'announce', ts };
    }
    const ready = this.readySide(mode, limitTs);
    if (ready !== undefined) return { kind: 'ready', ts: max(ready.ts, this.lastTs), from: ready.side };
    if (mode === 'upTo' || mode === 'all') return undefined;
    const hole = this.giveUpMissing(mode);
    if (hole !== undefined) return { kind: 'missing', ts: hole.tsNs, event: hole };
    if (mode !== 'final') return undefined;
    return { kind: 'close', ts: this.closeTs() };
  }

  /** The direction whose ready item is earlier (client first on a tie), within the limit of 'upTo'. */
  private readySide(mode: ReleaseMode, limitTs: bigint): { side: DirectionBuffer; ts: bigint } | undefined {
    const [c2s, s2c] = this.directions;
    let a = c2s.readyTs();
    let b = s2c.readyTs();
    if (mode === 'upTo') {
      if (a !== undefined && a > limitTs) a = undefined;
      if (b !== undefined && b > limitTs) b = undefined;
    }
    if (a === undefined && b === undefined) return undefined;
    return b === undefined || (a !== undefined && a <= b) ? { side: c2s, ts: a! } : { side: s2c, ts: b };
  }

  /** The hole before the earliest held item, or (final) before the end of a direction. */
  private giveUpMissing(mode: ReleaseMode): FlowHoleEvent | undefined {
    const [c2s, s2c] = this.directions;
    const forced = mode !== 'final';
    const a = c2s.heldTs();
    const b = s2c.heldTs();
    if (a !== undefined || b !== undefined) {
      const from = b === undefined || (a !== undefined && a <= b) ? c2s : s2c;
      return from.takeMissing(this.lastTs, forced);
    }
    if (mode !== 'final') return undefined;
    return c2s.takeMissing(this.closeTs(), false) ?? s2c.takeMissing(this.closeTs(), false);
  }

  private closeTs(): bigint {
    return this.close !== undefined && this.close.tsNs > this.lastTs ? this.close.tsNs : this.lastTs;
  }

  private handOn(event: FlowEvent, consumer: FlowConsumer): void {
    this.lastTs = event.tsNs;
    consumer.flowEvent(this.identity, event);
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
