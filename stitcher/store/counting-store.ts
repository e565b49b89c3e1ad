/**
 * Counts the calls made to an object store and how each ended, for metrics:
 * by operation (list, read, write) and by status (ok, the HTTP status the
 * store answered, or `network` when it never answered). A call is counted
 * once, after the adapter's own retries (a read when its response starts);
 * retries are counted apart.
 * Labels stay bounded: no keys, buckets or messages, only these few words.
 */
import type { Readable } from 'node:stream';
import { faultOf, type FaultKind } from './faults.js';
import type { ListOptions, ListPage, ObjectStore } from './store.js';

export type StoreOperation = 'list' | 'read' | 'write';

export interface StoreCall {
  readonly operation: StoreOperation;
  /** `ok`, an HTTP status (`403`, `503`) or `network`. */
  readonly status: string;
  /** Undefined for a call that succeeded. */
  readonly kind?: FaultKind;
}

/** Counts by `operation|status|kind`; read at scrape time. */
export class StoreCallCounts {
  readonly calls = new Map<string, { call: StoreCall; count: number }>();
  retries = 0;

  add(call: StoreCall): void {
    const key = `${call.operation}|${call.status}|${call.kind ?? ''}`;
    const entry = this.calls.get(key);
    if (entry === undefined) this.calls.set(key, { call, count: 1 });
    else entry.count++;
  }

  /** Calls of one operation so far, whatever their status. */
  total(operation: StoreOperation): number {
    let total = 0;
    for (const { call, count } of this.calls.values()) if (call.operation === operation) total += count;
    return total;
  }

  addFailure(operation: StoreOperation, error: unknown): void {
    const fault = faultOf(error);
    this.add({ operation, status: fault.status === undefined ? 'network' : String(fault.status), kind: fault.kind });
  }
}

/** Wraps `store` so every call is counted in `counts`; the store works as before. */
export function countingStore(store: ObjectStore, counts: StoreCallCounts): ObjectStore {
  return new CountingStore(store, counts);
}

class CountingStore implements ObjectStore {
  constructor(private readonly inner: ObjectStore, private readonly counts: StoreCallCounts) {}

  get description(): string {
    return this.inner.description;
  }

  async list(options: ListOptions): Promise<ListPage> {
    return this.counted('list', () => this.inner.list(options));
  }

  /** Counted when the response starts: a body cut short is resumed by the adapter itself, and the stream goes back untouched (a local read fills the caller's memory directly). */
  async read(key: string): Promise<Readable> {
    return this.counted('read', () => this.inner.read(key));
  }

  async write(key: string, data: Buffer): Promise<void> {
    return this.counted('write', () => this.inner.write(key, data));
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private async counted<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.counts.add({ operation, status: 'ok' });
      return result;
    } catch (error) {
      this.counts.addFailure(operation, error);
      throw error;
    }
  }
}
