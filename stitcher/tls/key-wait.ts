/**
 * The one policy for flows that wait for their TLS session keys, used by the key
 * gate (a pcapng output holds a TLS flow until its keys are in the file) and by
 * the decryptor (the clear-text variant holds ciphertext until it can decrypt):
 * a flow waits at most `keyWaitMs` of capture time and holds at most
 * `keyWaitBytes`; all waiting flows together hold at most `maxHeldBytes`, past
 * which the flows that have waited longest give up first. What giving up means
 * is the owner's (`giveUp`); the owner then calls `forget`.
 */
import { DEFAULT_KEY_WAIT_MS } from '../../contract/stitcher-config.js';
import { WaitingFlows } from './waiting-flows.js';

export interface KeyWaitLimits {
  /** Capture time a TLS flow waits for its keys. @default DEFAULT_KEY_WAIT_MS (30 s) */
  readonly keyWaitMs?: number;
  /** Bytes one flow may hold while it waits. @default 4 MiB */
  readonly keyWaitBytes?: number;
  /** Bytes all waiting flows may hold together; past it the oldest give up. @default 256 MiB */
  readonly maxHeldBytes?: number;
}

export const DEFAULT_KEY_WAIT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_HELD_BYTES = 256 * 1024 * 1024;
/** Deadlines are looked at when capture time has moved on this much: not per event. */
const SWEEP_EVERY_NS = 100_000_000n;

export class KeyWait<T> {
  readonly keyWaitBytes: number;
  private readonly keyWaitNs: bigint;
  private readonly maxHeldBytes: number;
  private readonly waiting = new WaitingFlows<T>();
  private readonly since = new Map<T, bigint>();
  /** Bytes each flow holds, waiting or not yet (a flow not yet known to be TLS counts too). */
  private readonly held = new Map<T, number>();
  private heldTotal = 0;
  private nextSweepNs = 0n;
  /** The latest `nowNs` a sweep was asked with. */
  private nowNs = 0n;

  constructor(limits: KeyWaitLimits, private readonly giveUp: (flow: T) => void) {
    this.keyWaitNs = BigInt(limits.keyWaitMs ?? DEFAULT_KEY_WAIT_MS) * 1_000_000n;
    this.keyWaitBytes = limits.keyWaitBytes ?? DEFAULT_KEY_WAIT_BYTES;
    this.maxHeldBytes = limits.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  }

  /** Flows waiting for keys now. */
  get size(): number {
    return this.waiting.size;
  }

  isWaiting(flow: T): boolean {
    return this.waiting.has(flow);
  }

  /** `flow` waits for the keys of `clientRandom` ('' while unknown), its deadline counted from `sinceNs`. */
  wait(flow: T, clientRandom: string, sinceNs: bigint): void {
    if (this.waiting.has(flow)) return;
    this.waiting.add(flow, clientRandom);
    this.since.set(flow, sinceNs);
    // Read behind the rest (another gateway's older hour): already past its deadline, and
    // capture time may never move again, so the next sweep must not wait for it to.
    if (this.nowNs - sinceNs > this.keyWaitNs) this.nextSweepNs = 0n;
  }

  /**
   * `flow` holds `bytes` now. A waiting flow past `keyWaitBytes` gives up; past
   * `maxHeldBytes` in all, the flows that have waited longest give up until the rest fit.
   */
  hold(flow: T, bytes: number): void {
    this.heldTotal += bytes - (this.held.get(flow) ?? 0);
    this.held.set(flow, bytes);
    if (bytes > this.keyWaitBytes && this.waiting.has(flow)) this.giveUp(flow);
    if (this.heldTotal > this.maxHeldBytes) this.giveUpOldest();
  }

  /** The flow waits no more (its keys came, it gave up or it ended): its bytes no longer count. */
  forget(flow: T): void {
    this.waiting.delete(flow);
    this.since.delete(flow);
    this.heldTotal -= this.held.get(flow) ?? 0;
    this.held.delete(flow);
  }

  /** The flows waiting for `clientRandom` (a snapshot: safe to forget them while going through it). */
  withRandom(clientRandom: string): T[] {
    return this.waiting.withRandom(clientRandom);
  }

  /** Every waiting flow (a snapshot). */
  waitingFlows(): T[] {
    return this.waiting.snapshot();
  }

  /** At most once per 100 ms of `nowNs` (or at once for a flow that began waiting past its deadline): the flows that waited longer than `keyWaitMs` give up. */
  sweep(nowNs: bigint): void {
    if (nowNs > this.nowNs) this.nowNs = nowNs;
    if (nowNs < this.nextSweepNs || this.waiting.size === 0) return;
    this.nextSweepNs = nowNs + SWEEP_EVERY_NS;
    for (const flow of this.waiting.snapshot()) {
      if (nowNs - (this.since.get(flow) ?? nowNs) > this.keyWaitNs) this.giveUp(flow);
    }
  }

  private giveUpOldest(): void {
    const oldest = this.waiting.snapshot().sort((a, b) => compare(this.since.get(a) ?? 0n, this.since.get(b) ?? 0n));
    for (const flow of oldest) {
      if (this.heldTotal <= this.maxHeldBytes) break;
      this.giveUp(flow);
    }
  }
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
