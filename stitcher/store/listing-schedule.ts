/**
 * What a polling reader lists each poll, so that its store calls follow the
 * gateways that are active rather than every gateway there is.
 *
 * - An active gateway (its last listing found something new) has its own
 *   folder listed every poll, after its cursor. One whose listing found
 *   nothing waits one back-off step before its next listing, each further
 *   empty listing doubling the step; once the step would reach `maxQuietMs`
 *   the gateway is quiet and leaves the schedule.
 * - Quiet gateways are never listed one by one: each hour folder of the
 *   window is swept instead, by one flat listing (no delimiter) of the whole
 *   hour, when first seen and then every `maxQuietMs`. The sweep returns the
 *   objects of every gateway of that hour, 1,000 keys a call whatever the
 *   number of gateways; a gateway with something new becomes active again.
 *   The hour of now is swept every poll while its last sweep found no key at
 *   all (a new hour, or a bucket a fleet has just started to fill), so the
 *   first objects of an hour are seen within a poll, at one call a poll.
 *
 * So a quiet gateway's new object is seen within `maxQuietMs` and one poll,
 * and a poll costs about one call per active gateway, plus, once per
 * `maxQuietMs`, the objects of the window's hours / 1,000.
 */

import { hourPrefix } from './discovery.js';

export interface ListingScheduleOptions {
  /** The reader's poll interval: the first back-off step, and the slack a due time is met with. */
  readonly pollIntervalMs: number;
  /** Longest a gateway goes unlisted: the period of the hour sweeps. @default 10 s */
  readonly maxQuietMs?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
}

export const DEFAULT_MAX_QUIET_MS = 10_000;

interface GatewayTurn {
  /** When the gateway's folder is to be listed next (ms). */
  readonly dueMs: number;
  /** The back-off step that set `dueMs`: 0 while the gateway is active. */
  readonly stepMs: number;
}

export class ListingSchedule {
  /** The active gateways and those backing off; a quiet gateway has no turn. */
  private readonly turns = new Map<string, GatewayTurn>();
  /** Per hour prefix, when it was last swept (ms) and whether that sweep found no key at all. */
  private readonly sweeps = new Map<string, { readonly atMs: number; readonly empty: boolean }>();
  private readonly pollIntervalMs: number;
  private readonly maxQuietMs: number;
  private readonly now: () => number;

  constructor(options: ListingScheduleOptions) {
    if (!(options.pollIntervalMs >= 0)) throw new Error(`listing schedule: the poll interval must be 0 or more ms, not ${options.pollIntervalMs}`);
    this.pollIntervalMs = options.pollIntervalMs;
    this.maxQuietMs = Math.max(options.maxQuietMs ?? DEFAULT_MAX_QUIET_MS, options.pollIntervalMs);
    this.now = options.now ?? Date.now;
  }

  /** Gateways the schedule keeps a turn for (active or backing off). */
  get size(): number {
    return this.turns.size;
  }

  /**
   * The gateways whose folders are to be listed now: active, or backing off
   * with their turn come. Half a poll of slack, so a turn due just after a
   * poll is taken at that poll rather than one poll later.
   */
  dueGateways(): Set<string> {
    const due = new Set<string>();
    const now = this.now() + this.pollIntervalMs / 2;
    for (const [gateway, turn] of this.turns) if (now >= turn.dueMs) due.add(gateway);
    return due;
  }

  /**
   * Whether `hour` (`yyyy/mm/dd/hh/`) is to be swept now: never swept, swept
   * `maxQuietMs` ago, or the hour of now with nothing found in it yet.
   */
  isSweepDue(hour: string): boolean {
    const sweep = this.sweeps.get(hour);
    if (sweep === undefined) return true;
    const now = this.now();
    return (sweep.empty && hour === hourPrefix(new Date(now))) || now + this.pollIntervalMs / 2 >= sweep.atMs + this.maxQuietMs;
  }

  /** `hour` was swept now, and held no key at all (`empty`) or some. */
  swept(hour: string, empty: boolean): void {
    this.sweeps.set(hour, { atMs: this.now(), empty });
  }

  /**
   * `gateway` was listed now (its folder, or a sweep of its hour) and found
   * something new (it is active) or nothing (it backs off, and leaves the
   * schedule once its step would reach `maxQuietMs`: the sweeps find it then).
   */
  listed(gateway: string, foundNew: boolean): void {
    const previous = this.turns.get(gateway)?.stepMs ?? 0;
    const stepMs = foundNew ? 0 : previous === 0 ? Math.max(1, this.pollIntervalMs) : previous * 2;
    if (stepMs >= this.maxQuietMs) this.turns.delete(gateway);
    else this.turns.set(gateway, { dueMs: this.now() + stepMs, stepMs });
  }

  /** Forgets a gateway (retired by the reader). */
  forget(gateway: string): void {
    this.turns.delete(gateway);
  }

  /** Forgets the sweeps of hours that sort before `first` (hours that left the window: `yyyy/mm/dd/hh/` sorts by time). */
  forgetBefore(first: string): void {
    for (const hour of this.sweeps.keys()) if (hour < first) this.sweeps.delete(hour);
  }
}
