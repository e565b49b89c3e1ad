/**
 * Opens the next few objects' read streams while the current one is being
 * stitched, so a cloud store's latency overlaps with work. Each stream holds
 * at most its own read-ahead buffer, so memory stays bounded by `depth`.
 */
import type { Readable } from 'node:stream';
import type { ListOptions, ListPage, ObjectStore } from '../store/store.js';

export class PrefetchingStore implements ObjectStore {
  private readonly opened = new Map<string, Promise<Readable>>();
  private queue: string[] = [];

  /** @param depth streams opened ahead of the one being read @default 4 */
  constructor(private readonly inner: ObjectStore, private readonly depth = 4) {}

  get description(): string {
    return this.inner.description;
  }

  /** The keys about to be read, in order. */
  plan(keys: readonly string[]): void {
    this.queue = [...keys];
  }

  read(key: string): Promise<Readable> {
    const early = this.opened.get(key);
    this.opened.delete(key);
    const index = this.queue.indexOf(key);
    if (index >= 0) this.queue.splice(0, index + 1);
    this.fill();
    return early ?? this.inner.read(key);
  }

  list(options: ListOptions): Promise<ListPage> {
    return this.inner.list(options);
  }

  write(key: string, data: Buffer): Promise<void> {
    return this.inner.write(key, data);
  }

  /** Streams opened but never read are destroyed. */
  async close(): Promise<void> {
    const pending = [...this.opened.values()];
    this.opened.clear();
    await Promise.allSettled(pending.map(async (stream) => (await stream).destroy()));
  }

  private fill(): void {
    for (const key of this.queue) {
      if (this.opened.size >= this.depth) return;
      if (!this.opened.has(key)) {
        const stream = this.inner.read(key);
        stream.catch(() => undefined); // reported when read() hands it out
        this.opened.set(key, stream);
      }
    }
  }
}
