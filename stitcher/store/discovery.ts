/**
 * Cheap discovery over the key layout `<yyyy>/<mm>/<dd>/<hh>/<gateway>/<seq>.ctap`
 * (relative to the store's root): a poll names the hours it wants instead of
 * listing the bucket, groups gateways by delimiter, and lists a gateway's
 * objects only after its cursor. Old hours cost nothing, however many there are.
 */
import { listAll, listPrefixes, type ObjectInfo, type ObjectStore } from './store.js';

const HOUR_MS = 3_600_000;

/** The hour prefix (`2026/11/25/14/`) of the UTC hour that holds `time`. */
export function hourPrefix(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${time.getUTCFullYear()}/${two(time.getUTCMonth() + 1)}/${two(time.getUTCDate())}/${two(time.getUTCHours())}/`;
}

/**
 * Every hour prefix from the hour of `from` to the hour of `to`, both
 * included, oldest first. Throws when `to` is before `from` or the span is
 * beyond `maxHours` (a typo in a backfill should not list years).
 * @param maxHours @default 24 * 366
 */
export function listHours(from: Date, to: Date, maxHours = 24 * 366): string[] {
  const start = Math.floor(from.getTime() / HOUR_MS);
  const end = Math.floor(to.getTime() / HOUR_MS);
  if (Number.isNaN(start) || Number.isNaN(end)) throw new Error('listing hours: from and to must be valid dates');
  if (end < start) throw new Error(`listing hours: to (${to.toISOString()}) is before from (${from.toISOString()})`);
  if (end - start + 1 > maxHours) {
    throw new Error(`listing hours: ${end - start + 1} hours from ${from.toISOString()} to ${to.toISOString()} is over ${maxHours}`);
  }
  const hours: string[] = [];
  for (let hour = start; hour <= end; hour++) hours.push(hourPrefix(new Date(hour * HOUR_MS)));
  return hours;
}

/** The hour prefixes of a look-back window ending at `now`, oldest first. */
export function lookBackHours(now: Date, lookBackMs: number): string[] {
  return listHours(new Date(now.getTime() - lookBackMs), now);
}

/** The gateway names with objects under an hour prefix, by one delimiter listing (paged). */
export async function listGateways(store: ObjectStore, hour: string): Promise<string[]> {
  const prefixes = await listPrefixes(store, hour);
  return prefixes.map((prefix) => prefix.slice(hour.length, -1));
}

/**
 * A gateway's objects under `prefix` (e.g. `2026/11/25/14/gw-1/`) strictly
 * after `cursor` (a full key relative to the store root, possibly of another
 * hour), in key order, all pages. A cursor past the whole prefix (a later
 * hour) costs no request.
 */
export async function listObjectsAfter(store: ObjectStore, prefix: string, cursor?: string): Promise<ObjectInfo[]> {
  if (cursor !== undefined && !cursor.startsWith(prefix) && cursor > prefix) return [];
  const objects: ObjectInfo[] = [];
  for await (const object of listAll(store, prefix, cursor)) objects.push(object);
  return objects;
}

/**
 * Runs `work` over `items` with at most `limit` running at once; results in
 * the order of `items`. The first failure rejects (work already started finishes).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`bounded concurrency: limit must be a positive integer, not ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
