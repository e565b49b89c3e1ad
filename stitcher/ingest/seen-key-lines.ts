/**
 * The key log lines already passed on, so that a line a gateway writes twice (a
 * retried upload, a key object read again) is exported once. A long polling run
 * sees lines without end, so this memory is bounded by count and by age: the
 * oldest sightings are forgotten first. Forgetting costs little (a line seen again
 * after that is exported again, which a key log reader takes as the same secret),
 * remembering without a bound costs a pod.
 *
 * It keeps a 16-byte digest of each line rather than the line: a fifth of the
 * memory, and no copy of a secret held longer than needed.
 */
import { hash } from 'node:crypto';

export interface SeenKeyLinesOptions {
  /** The most lines remembered. @default 100000 */
  readonly maxLines?: number;
  /** The memory the lines may take (their share of the stitcher's budget): caps `maxLines` at `maxBytes / SEEN_LINE_BUDGET_BYTES`. */
  readonly maxBytes?: number;
  /** How long a sighting is remembered, ms. @default 3600000 (one hour) */
  readonly maxAgeMs?: number;
  /** The clock, ms. @default Date.now */
  readonly nowMs?: () => number;
}

/** Heap bytes one remembered line costs (digest string, set slot, queue slots): measured on Node 24.21, for budgets. */
export const SEEN_LINE_BYTES = 144;
/**
 * What one remembered line costs at most, for a byte budget: under a flood the
 * queue holds as many forgotten digests again until it is compacted (measured:
 * about 260 bytes per remembered line).
 */
export const SEEN_LINE_BUDGET_BYTES = 2 * SEEN_LINE_BYTES;

export class SeenKeyLines {
  private readonly seen = new Set<string>();
  /**
   * The digests in the order they were first seen, with the second they were seen
   * (from `epochMs`, a small integer V8 keeps unboxed): a queue whose head is the
   * oldest. Kept apart from the set because walking a Map or Set from its start
   * after deleting there costs time in proportion to the deleted slots.
   */
  private order: string[] = [];
  private times: number[] = [];
  private head = 0;
  private readonly maxLines: number;
  private readonly maxAgeSeconds: number;
  private readonly nowMs: () => number;
  private readonly epochMs: number;
  /** Sightings forgotten to keep the bounds. */
  forgotten = 0;

  constructor(options: SeenKeyLinesOptions = {}) {
    const byBytes = options.maxBytes === undefined ? Infinity : Math.max(1, Math.floor(options.maxBytes / SEEN_LINE_BUDGET_BYTES));
    this.maxLines = Math.min(options.maxLines ?? 100_000, byBytes);
    this.maxAgeSeconds = Math.ceil((options.maxAgeMs ?? 3_600_000) / 1000);
    this.nowMs = options.nowMs ?? Date.now;
    this.epochMs = this.nowMs();
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * True the first time a line is seen within the window (and remembers it from
   * then); false for a repeat. A line is forgotten `maxAgeMs` after its first
   * sighting, or sooner when `maxLines` newer ones came.
   */
  firstSighting(line: string): boolean {
    const now = Math.floor((this.nowMs() - this.epochMs) / 1000);
    this.forgetOlderThan(now - this.maxAgeSeconds);
    const digest = hash('sha256', line, 'base64').slice(0, 22);
    if (this.seen.has(digest)) return false;
    this.seen.add(digest);
    this.order.push(digest);
    this.times.push(now);
    if (this.seen.size > this.maxLines) this.forgetOldest();
    return true;
  }

  private forgetOlderThan(second: number): void {
    while (this.head < this.order.length && (this.times[this.head] as number) < second) this.forgetOldest();
  }

  private forgetOldest(): void {
    this.seen.delete(this.order[this.head] as string);
    this.head++;
    this.forgotten++;
    // Drop the consumed head now and then: amortised O(1), and the arrays stay within twice the bound.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
