/**
 * What the gateways copied into a bucket, from listing alone: every CTAP
 * object's size, counted by the UTC hour folder it sits in and its gateway.
 * No object is downloaded; keys that are not CTAP objects are counted apart.
 */
import { listHours, mapBounded } from '../store/discovery.js';

const HOUR_LISTINGS_AT_ONCE = 8;
import { listAll, type ObjectInfo, type ObjectStore } from '../store/store.js';
import { parseObjectKey } from '../format/object-key.js';
import { ObjectKind } from '../format/records.js';

/** One hour of one gateway. */
export interface HourTally {
  /** The start of the UTC hour, `2026-11-25T14:00:00.000Z`. */
  readonly hour: string;
  readonly gateway: string;
  trafficObjects: number;
  trafficBytes: number;
  keyObjects: number;
  keyBytes: number;
}

export interface UsageTally {
  /** By hour, then gateway (sorted). */
  readonly hours: HourTally[];
  /** Listed keys that are not CTAP objects (left out). */
  readonly otherKeys: number;
}

export interface UsageRange {
  readonly from?: Date;
  readonly to?: Date;
}

export interface TallyOptions {
  /** Called after every listed key: keys seen so far, and which hour folder is being listed when known. */
  readonly onProgress?: (listed: number, hoursDone: number, hoursTotal: number | undefined) => void;
}

/**
 * Lists the store: every hour folder from `from` to `to` when a range is
 * given (to defaults to now, from to 31 days before `to`), else everything
 * in one flat listing.
 */
export async function tallyUsage(store: ObjectStore, range: UsageRange, options: TallyOptions = {}): Promise<UsageTally> {
  const counts = new Map<string, HourTally>();
  let otherKeys = 0;
  let listed = 0;
  const add = (object: ObjectInfo): void => {
    listed++;
    const parsed = parseObjectKey(object.key);
    if (parsed === undefined || !inRange(parsed.hour, range)) {
      otherKeys += parsed === undefined ? 1 : 0;
      return;
    }
    const hour = parsed.hour.toISOString();
    const id = `${hour}|${parsed.gateway}`;
    let tally = counts.get(id);
    if (tally === undefined) {
      tally = { hour, gateway: parsed.gateway, trafficObjects: 0, trafficBytes: 0, keyObjects: 0, keyBytes: 0 };
      counts.set(id, tally);
    }
    if (parsed.kind === ObjectKind.Traffic) {
      tally.trafficObjects++;
      tally.trafficBytes += object.size;
    } else {
      tally.keyObjects++;
      tally.keyBytes += object.size;
    }
  };
  if (range.from === undefined && range.to === undefined) {
    for await (const object of listAll(store, '')) {
      add(object);
      options.onProgress?.(listed, 0, undefined);
    }
  } else {
    const to = range.to ?? new Date();
    const from = range.from ?? new Date(to.getTime() - 31 * 86_400_000);
    const hours = listHours(from, to);
    let done = 0;
    // A month is 744 hour folders: several listings at once, as the stitcher's discovery does.
    await mapBounded(hours, HOUR_LISTINGS_AT_ONCE, async (hour) => {
      for await (const object of listAll(store, hour)) {
        add(object);
        options.onProgress?.(listed, done, hours.length);
      }
      done++;
    });
  }
  const hours = [...counts.values()].sort((a, b) => (a.hour === b.hour ? a.gateway.localeCompare(b.gateway) : a.hour < b.hour ? -1 : 1));
  return { hours, otherKeys };
}

/** An hour folder counts when it starts in [from's hour, to]. */
function inRange(hour: Date, range: UsageRange): boolean {
  const hourMs = 3_600_000;
  if (range.from !== undefined && hour.getTime() < Math.floor(range.from.getTime() / hourMs) * hourMs) return false;
  if (range.to !== undefined && hour.getTime() > range.to.getTime()) return false;
  return true;
}
