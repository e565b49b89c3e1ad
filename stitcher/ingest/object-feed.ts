/**
 * Finds the CTAP objects of every gateway in a store and hands them out in the
 * order they must be read: per gateway by <seq> (which runs across hours), the
 * gateways interleaved hour by hour so the output stays roughly in time order.
 * A gateway's cursor (the next <seq> expected) makes every poll list only what is new.
 * A reader that is one shard of several lists only the gateways it owns.
 */
import { ObjectKind } from '../format/records.js';
import { parseObjectKey } from '../format/object-key.js';
import { hourPrefix, listGateways, listHours, listObjectsAfter } from '../store/discovery.js';
import { ListingSchedule, type ListingScheduleOptions } from '../store/listing-schedule.js';
import { listPrefixes, type ObjectInfo, type ObjectStore } from '../store/store.js';

/**
 * Which hour folders a poll lists: every hour in the store (a one-off run over a
 * folder), a fixed range (a backfill), or a window that ends now (a live stitcher,
 * so that old hours cost nothing however many there are).
 */
export type HourWindow =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: Date; readonly to: Date }
  | { readonly kind: 'look-back'; readonly ms: number };

/** Objects a little in the future still count: gateway clocks are not ours. */
const CLOCK_SKEW_MS = 15 * 60_000;

export interface FeedObject {
  readonly key: string;
  readonly gateway: string;
  readonly seq: bigint;
  readonly hourPrefix: string;
  readonly size: number;
}

export interface SeqGap {
  readonly gateway: string;
  readonly fromSeq: bigint;
  readonly toSeq: bigint;
}

export interface FeedOptions {
  /** Which gateways this reader owns (its shard); others are never listed past their name. @default every gateway */
  readonly owns?: (gateway: string) => boolean;
  /**
   * How long a polling reader waits for a missing <seq> before it passes it with a
   * reported gap (objects may become visible out of order). @default forever
   */
  readonly reorderWaitMs?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
  /** A polling reader's pace: quiet gateways are listed less often (see ListingSchedule). @default every gateway every poll */
  readonly listing?: Omit<ListingScheduleOptions, 'now'>;
}

/** Where a gateway's stream stands. */
export interface GatewayCursor {
  /** The next <seq> to hand out. */
  readonly nextSeq: bigint;
  /** Hour prefix of the last object handed out, when one was. */
  readonly lastHour?: string;
}

export class ObjectFeed {
  /** Per gateway, the next <seq> to hand out. */
  private readonly nextSeq = new Map<string, bigint>();
  /** Per gateway, the last key handed out, for start-after listings. */
  private readonly lastKey = new Map<string, { readonly key: string; readonly hour: string }>();
  private readonly lastHour = new Map<string, string>();
  /** Per gateway, the missing <seq> it waits for and since when (ms). */
  private readonly waiting = new Map<string, { readonly seq: bigint; readonly sinceMs: number }>();
  private readonly owns: (gateway: string) => boolean;
  private readonly reorderWaitMs: number;
  private readonly now: () => number;
  private readonly schedule: ListingSchedule | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly kind: ObjectKind,
    private readonly window: HourWindow = { kind: 'all' },
    options: FeedOptions = {},
  ) {
    this.owns = options.owns ?? (() => true);
    this.reorderWaitMs = options.reorderWaitMs ?? Infinity;
    this.now = options.now ?? Date.now;
    this.schedule = options.listing === undefined ? undefined : new ListingSchedule({ ...options.listing, now: this.now });
  }

  /** Every gateway this feed has a cursor for. */
  cursors(): Map<string, GatewayCursor> {
    const cursors = new Map<string, GatewayCursor>();
    for (const [gateway, nextSeq] of this.nextSeq) {
      const lastHour = this.lastHour.get(gateway);
      cursors.set(gateway, lastHour === undefined ? { nextSeq } : { nextSeq, lastHour });
    }
    return cursors;
  }

  /** Starts a gateway's stream at `nextSeq` (a resume from a checkpoint). */
  seed(gateway: string, cursor: GatewayCursor): void {
    this.nextSeq.set(gateway, cursor.nextSeq);
    if (cursor.lastHour !== undefined) this.lastHour.set(gateway, cursor.lastHour);
    this.lastKey.delete(gateway);
    this.waiting.delete(gateway);
  }

  /** Forgets a gateway (retired: quiet, all flows closed, its hours out of the window). */
  retire(gateway: string): void {
    this.nextSeq.delete(gateway);
    this.lastKey.delete(gateway);
    this.lastHour.delete(gateway);
    this.waiting.delete(gateway);
    this.schedule?.forget(gateway);
  }

  /**
   * Gateways whose last object's hour is before every hour the window lists now:
   * nothing of theirs can be listed again, so forgetting them re-reads nothing.
   * Only a look-back window ever retires.
   */
  outOfWindow(): string[] {
    return [...this.lastHour].filter(([, hour]) => this.isBeforeWindow(hour)).map(([gateway]) => gateway);
  }

  /** Whether an hour prefix is older than every hour a look-back poll lists now. */
  isBeforeWindow(hour: string): boolean {
    if (this.window.kind !== 'look-back') return false;
    return hour < listHours(new Date(this.now() - this.window.ms), new Date(this.now()))[0]!;
  }

  /** Gateways waiting for a missing <seq> now. */
  get waitingGateways(): number {
    return this.waiting.size;
  }

  /**
   * Everything new since the last call, in reading order. With `passGaps`, a missing
   * <seq> is skipped over (and reported through `onGap`); otherwise a gateway stops at
   * its first missing <seq> until it shows up or `reorderWaitMs` has passed since it
   * was first missed (then it is skipped and reported too).
   */
  async poll(passGaps: boolean, onGap: (gap: SeqGap) => void): Promise<FeedObject[]> {
    const perGateway = new Map<string, FeedObject[]>();
    const hours = await this.hours();
    if (this.schedule === undefined) for (const hour of hours) await this.listEveryGateway(hour, perGateway);
    else await this.listScheduled(this.schedule, hours, perGateway);
    const ready: FeedObject[][] = [];
    for (const [gateway, objects] of perGateway) {
      ready.push(this.takeInOrder(gateway, objects, passGaps, onGap));
    }
    return interleaveByHour(ready);
  }

  /** Every owned gateway folder of an hour, after its cursor (a one-off run, or polling without a schedule). */
  private async listEveryGateway(hour: string, perGateway: Map<string, FeedObject[]>): Promise<void> {
    for (const gateway of await listGateways(this.store, hour)) {
      if (!this.owns(gateway)) continue;
      const last = this.lastKey.get(gateway);
      // An earlier hour can only hold a <seq> this gateway still waits for (a late upload).
      if (last !== undefined && hour < last.hour && !this.waiting.has(gateway)) continue;
      await this.listGatewayFolder(hour, gateway, perGateway);
    }
  }

  /**
   * A polling poll (see ListingSchedule): an hour whose sweep is due is listed
   * flat, whole; otherwise only the folders of its due gateways (and of those
   * waiting for a missing <seq>) are listed, in the hours they can write to
   * up to the hour of now.
   */
  private async listScheduled(schedule: ListingSchedule, hours: readonly string[], perGateway: Map<string, FeedObject[]>): Promise<void> {
    schedule.forgetBefore(hours[0] ?? '');
    const due = schedule.dueGateways();
    for (const gateway of this.waiting.keys()) due.add(gateway);
    const foundNew = new Set<string>();
    const nowHour = hourPrefix(new Date(this.now()));
    for (const hour of hours) {
      if (schedule.isSweepDue(hour)) {
        schedule.swept(hour, await this.sweep(hour, perGateway, foundNew));
        continue;
      }
      for (const gateway of due) {
        const lastHour = this.lastHour.get(gateway);
        if (lastHour !== undefined && hour < lastHour && !this.waiting.has(gateway)) continue;
        // An hour ahead of now (the clock-skew margin) is left to its sweeps, unless the gateway writes there already.
        if (hour > nowHour && (lastHour === undefined || hour > lastHour)) continue;
        if (await this.listGatewayFolder(hour, gateway, perGateway)) foundNew.add(gateway);
      }
    }
    for (const gateway of due) if (!foundNew.has(gateway)) schedule.listed(gateway, false);
    for (const gateway of foundNew) schedule.listed(gateway, true);
  }

  /**
   * Lists a whole hour flat, page by page (only what is new is kept), adding
   * the gateways that got something to `foundNew`; whether the hour held no key at all.
   */
  private async sweep(hour: string, perGateway: Map<string, FeedObject[]>, foundNew: Set<string>): Promise<boolean> {
    let empty = true;
    let pageToken: string | undefined;
    do {
      const page = await this.store.list({ prefix: hour, ...(pageToken === undefined ? {} : { pageToken }) });
      if (page.objects.length > 0) empty = false;
      for (const gateway of this.collect(hour, page.objects, perGateway)) foundNew.add(gateway);
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    return empty;
  }

  /** One gateway's folder of one hour, after its cursor; whether it held anything new. */
  private async listGatewayFolder(hour: string, gateway: string, perGateway: Map<string, FeedObject[]>): Promise<boolean> {
    const last = this.lastKey.get(gateway);
    const after = last !== undefined && hour < last.hour ? undefined : last?.key;
    const objects = await listObjectsAfter(this.store, `${hour}${gateway}/`, after);
    return this.collect(hour, objects, perGateway, gateway).size > 0;
  }

  /**
   * Adds the listed objects of this feed's kind at or after their gateway's
   * next <seq> (of `gateway` only, or of every owned gateway for a sweep);
   * returns the gateways that got something.
   */
  private collect(hour: string, objects: readonly ObjectInfo[], perGateway: Map<string, FeedObject[]>, gateway?: string): Set<string> {
    const found = new Set<string>();
    for (const object of objects) {
      const parsed = parseObjectKey(object.key);
      if (parsed === undefined || parsed.kind !== this.kind) continue;
      if (gateway === undefined ? !this.owns(parsed.gateway) : parsed.gateway !== gateway) continue;
      if (parsed.seq < (this.nextSeq.get(parsed.gateway) ?? 0n)) continue;
      const list = perGateway.get(parsed.gateway);
      const listed: FeedObject = { key: object.key, gateway: parsed.gateway, seq: parsed.seq, hourPrefix: hour, size: object.size };
      if (list === undefined) perGateway.set(parsed.gateway, [listed]);
      else list.push(listed);
      found.add(parsed.gateway);
    }
    return found;
  }

  private takeInOrder(gateway: string, objects: FeedObject[], passGaps: boolean, onGap: (gap: SeqGap) => void): FeedObject[] {
    objects.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    const taken: FeedObject[] = [];
    let next = this.nextSeq.get(gateway) ?? 0n;
    for (const object of objects) {
      if (object.seq < next) continue; // listed twice (a prefix seen in two hours)
      if (object.seq > next) {
        if (!passGaps && !this.waitedLongEnough(gateway, next)) break;
        onGap({ gateway, fromSeq: next, toSeq: object.seq - 1n });
      }
      taken.push(object);
      next = object.seq + 1n;
    }
    this.nextSeq.set(gateway, next);
    const last = taken.at(-1);
    if (last !== undefined) {
      this.lastKey.set(gateway, { key: last.key, hour: last.hourPrefix });
      this.lastHour.set(gateway, last.hourPrefix);
    }
    if (this.waiting.get(gateway)?.seq !== next || taken.length === objects.length) this.waiting.delete(gateway);
    return taken;
  }

  /** Starts (or goes on) waiting for `seq` of a gateway; true once the wait is over. */
  private waitedLongEnough(gateway: string, seq: bigint): boolean {
    const waiting = this.waiting.get(gateway);
    if (waiting === undefined || waiting.seq !== seq) {
      this.waiting.set(gateway, { seq, sinceMs: this.now() });
      return this.reorderWaitMs <= 0;
    }
    return this.now() - waiting.sinceMs >= this.reorderWaitMs;
  }

  /** Hour prefixes `yyyy/mm/dd/hh/` of the window, oldest first. */
  private async hours(): Promise<string[]> {
    if (this.window.kind === 'range') return listHours(this.window.from, this.window.to);
    if (this.window.kind === 'look-back') {
      const now = this.now();
      return listHours(new Date(now - this.window.ms), new Date(now + CLOCK_SKEW_MS));
    }
    return this.walkAllHours();
  }

  /** Every hour folder in the store, by delimiter listings four levels deep. */
  private async walkAllHours(): Promise<string[]> {
    let level = [''];
    for (let depth = 0; depth < 4; depth++) {
      const next: string[] = [];
      for (const prefix of level) next.push(...(await listPrefixes(this.store, prefix)));
      level = next.filter((p) => /^\d+\/$/.test(p.slice(p.lastIndexOf('/', p.length - 2) + 1)));
    }
    return level.sort();
  }
}

/** Round-robin over gateways, never taking a later hour while another gateway still has an earlier one. */
function interleaveByHour(perGateway: FeedObject[][]): FeedObject[] {
  const order: FeedObject[] = [];
  const cursors = perGateway.map(() => 0);
  for (;;) {
    let earliest: string | undefined;
    perGateway.forEach((objects, i) => {
      const hour = objects[cursors[i]!]?.hourPrefix;
      if (hour !== undefined && (earliest === undefined || hour < earliest)) earliest = hour;
    });
    if (earliest === undefined) return order;
    perGateway.forEach((objects, i) => {
      const object = objects[cursors[i]!];
      if (object !== undefined && object.hourPrefix === earliest) {
        order.push(object);
        cursors[i]!++;
      }
    });
  }
}
