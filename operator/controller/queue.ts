/**
 * A de-duplicating, rate-limited work queue, like client-go's: a key queued
 * twice is worked once; a key being worked and queued again is worked again
 * after; failures come back after a growing delay; an overall token bucket
 * keeps a burst of events from flooding the API server.
 */

export interface WorkQueueOptions {
  /** First retry delay after a failure. @default 200 */
  readonly baseDelayMs?: number;
  /** Longest retry delay. @default 60000 */
  readonly maxDelayMs?: number;
  /** Sustained keys per second across all keys. @default 20 */
  readonly ratePerSecond?: number;
  /** Keys that may start at once before the rate applies. @default 50 */
  readonly burst?: number;
}

export type Worker = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private tokens: number;
  private lastRefill = Date.now();
  private readonly waiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.tokens = options.burst ?? 50;
  }

  get length(): number {
    return this.pending.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.pending.add(key);
    this.wakeAll();
  }

  /** Adds the key after `delayMs` (a reconcile asked to look again later). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.delayed.has(key)) return;
    this.delayed.set(key, setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs));
  }

  /** Adds the key after its backoff, which doubles with each failure in a row. */
  retry(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.options.maxDelayMs ?? 60_000, (this.options.baseDelayMs ?? 200) * 2 ** failures);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Runs `worker` on keys with `concurrency` loops until stop(). */
  async run(worker: Worker, concurrency = 2): Promise<void> {
    await Promise.all(Array.from({ length: concurrency }, () => this.loop(worker)));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private async loop(worker: Worker): Promise<void> {
    while (!this.stopped) {
      const key = this.next();
      if (key === undefined) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.pending.delete(key);
      this.active.add(key);
      try {
        await this.takeToken();
        await worker(key);
      } finally {
        this.active.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }

  private next(): string | undefined {
    for (const key of this.pending) if (!this.active.has(key)) return key;
    return undefined;
  }

  private async takeToken(): Promise<void> {
    const rate = this.options.ratePerSecond ?? 20;
    const burst = this.options.burst ?? 50;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, ((1 - this.tokens) / rate) * 1000));
    }
  }
}
