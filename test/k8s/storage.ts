/**
 * The object store behind the test server, like etcd: one resourceVersion
 * counter for everything, an event log kept for a window (older versions
 * answer 410 Gone), watchers that see events in resourceVersion order.
 */
import { typeKey, type ResourceType } from './registry.js';
import type { Matcher } from './selectors.js';

export type Json = Record<string, unknown>;
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly resourceVersion: number;
  readonly typeKey: string;
  readonly type: EventType;
  readonly object: Json;
}

export interface Watcher {
  readonly typeKey: string;
  readonly namespace: string | undefined;
  readonly matches: Matcher;
  send(event: WatchEvent): void;
}

export const metadataOf = (object: Json): Json => object.metadata as Json;

export class Storage {
  private revision = 1;
  private readonly objects = new Map<string, Map<string, Json>>();
  private readonly log: WatchEvent[] = [];
  /** Versions at or below this one are no longer in the log. */
  private compactedThrough = 0;
  readonly watchers = new Set<Watcher>();
  /** While true (a `dryRun=All` request), writes are answered but not stored. */
  dryRun = false;

  constructor(private readonly logWindow = 10000) {}

  get currentRevision(): number {
    return this.revision;
  }

  /** Forgets every event so far: a watch from an older version gets 410 Gone. */
  compact(): void {
    this.compactedThrough = this.revision;
    this.log.length = 0;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): Json | undefined {
    const object = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    return object === undefined ? undefined : structuredClone(object);
  }

  list(type: ResourceType, namespace: string | undefined): Json[] {
    const objects = [...this.bucket(type).values()].filter(
      (object) => namespace === undefined || metadataOf(object).namespace === namespace,
    );
    return structuredClone(objects).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  /** Every stored object of every type (for the garbage collector). */
  *all(): Generator<[string, Json]> {
    for (const [key, bucket] of this.objects) for (const object of bucket.values()) yield [key, object];
  }

  /** Stores the object with a new resourceVersion and tells the watchers. */
  put(type: ResourceType, object: Json, eventType: 'ADDED' | 'MODIFIED'): Json {
    const stored = structuredClone(object);
    if (this.dryRun) return stored;
    metadataOf(stored).resourceVersion = String(++this.revision);
    this.bucket(type).set(keyOf(stored), stored);
    this.emit(type, eventType, stored);
    return structuredClone(stored);
  }

  remove(type: ResourceType, object: Json): Json {
    const removed = structuredClone(object);
    if (this.dryRun) return removed;
    this.bucket(type).delete(keyOf(removed));
    metadataOf(removed).resourceVersion = String(++this.revision);
    this.emit(type, 'DELETED', removed);
    return removed;
  }

  dropType(type: ResourceType): void {
    this.objects.delete(typeKey(type));
  }

  /**
   * The events after `resourceVersion` for a new watcher.
   * @returns undefined when that version was compacted away (410 Gone)
   */
  eventsSince(type: ResourceType, resourceVersion: number): WatchEvent[] | undefined {
    if (resourceVersion < this.compactedThrough) return undefined;
    const key = typeKey(type);
    return this.log.filter((event) => event.resourceVersion > resourceVersion && event.typeKey === key);
  }

  private emit(type: ResourceType, eventType: EventType, object: Json): void {
    const event: WatchEvent = { resourceVersion: this.revision, typeKey: typeKey(type), type: eventType, object: structuredClone(object) };
    this.log.push(event);
    if (this.log.length > this.logWindow) {
      const dropped = this.log.splice(0, this.log.length - this.logWindow);
      this.compactedThrough = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const watcher of this.watchers) {
      if (watcher.typeKey !== event.typeKey) continue;
      if (watcher.namespace !== undefined && metadataOf(object).namespace !== watcher.namespace) continue;
      if (watcher.matches(object)) watcher.send(event);
    }
  }

  private bucket(type: ResourceType): Map<string, Json> {
    const key = typeKey(type);
    let bucket = this.objects.get(key);
    if (!bucket) this.objects.set(key, (bucket = new Map()));
    return bucket;
  }
}

function keyOf(object: Json): string {
  const metadata = metadataOf(object);
  return `${(metadata.namespace as string | undefined) ?? ''}/${metadata.name as string}`;
}
