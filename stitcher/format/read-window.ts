/**
 * The reader's look-ahead over a source that reads straight into the caller's
 * memory (a local file): a large window that blocks are read into in place,
 * so no block is ever joined from pieces. When the window is used up, the
 * unread tail (less than a block) moves to the front of a fresh window, or,
 * with `reuse`, of the same one: then nothing is allocated per object at all,
 * but a view handed out (a block, its DATA payloads) is only valid until the
 * next `ensure` or `pull`, i.e. until the reader's consumer asks for the next event.
 */
import { ReadInput } from './read-input.js';

/** A source that fills the caller's buffer, as a file handle does. */
export interface DirectSource {
  /** Reads up to `length` bytes into `target` at `offset`; resolves 0 at the end. */
  readInto(target: Buffer, offset: number, length: number): Promise<number>;
  /** Gives up the source (closes the file); called once, also after the end. */
  destroy(): void;
}

export function isDirectSource(source: unknown): source is DirectSource {
  const candidate = source as Partial<DirectSource> | null;
  return typeof candidate?.readInto === 'function' && typeof candidate.destroy === 'function';
}

export interface ReadWindowOptions {
  /**
   * Initial window size; it grows to hold the largest structure asked for.
   * @default 2097152 (2 MiB)
   */
  readonly windowBytes?: number;
  /**
   * Least bytes asked per read: enough to take a block header and the start of
   * its data in one read, small enough that the tail carried over when the
   * window wraps costs little to move.
   * @default 65536
   */
  readonly minReadBytes?: number;
  /** Rewrite the same window when it is used up (see above). @default false */
  readonly reuse?: boolean;
  /**
   * Makes a window of at least `bytes` bytes, e.g. in memory that a later stage
   * reads faster (see packet/wasm-sum.ts). Called once per window: with `reuse`
   * a few times per run, without it whenever the window is used up.
   * @default Buffer.allocUnsafeSlow
   */
  readonly allocate?: (bytes: number) => Buffer;
}

/** Windows of closed readers in `reuse` mode, for the next object (nobody holds views of them). */
const spareWindows: Buffer[] = [];
const MAX_SPARE_WINDOWS = 2;

export class ReadWindow extends ReadInput {
  private window: Buffer;
  private readonly minReadBytes: number;
  private readonly reuse: boolean;
  private readonly allocate: (bytes: number) => Buffer;
  /** Unread bytes are window[start, end). */
  private start = 0;
  private end = 0;
  private closed = false;

  constructor(private readonly source: DirectSource, options: ReadWindowOptions = {}) {
    super();
    this.minReadBytes = options.minReadBytes ?? 1 << 16;
    this.reuse = options.reuse ?? false;
    this.allocate = options.allocate ?? Buffer.allocUnsafeSlow;
    const windowBytes = options.windowBytes ?? 2 << 20;
    const spare = this.reuse ? spareWindows.pop() : undefined;
    this.window = spare !== undefined && spare.length >= windowBytes ? spare : this.allocate(windowBytes);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Reads until `count` bytes are unread; false when the source ends first. */
  async ensure(count: number): Promise<boolean> {
    while (this.available < count && !this.done) await this.read(count);
    return this.available >= count;
  }

  /** Reads once more (or learns that the source is over). */
  async pull(): Promise<void> {
    if (!this.done) await this.read(this.available + 1);
  }

  /** The next `count` unread bytes (count <= available): always a view, never a copy. */
  peek(count: number): Buffer {
    if (count > this.available) throw new RangeError(`peek of ${count} bytes with only ${this.available} buffered`);
    return this.window.subarray(this.start, this.start + count);
  }

  skip(count: number): void {
    if (count > this.available) throw new RangeError(`skip of ${count} bytes with only ${this.available} buffered`);
    this.start += count;
    this.position += count;
  }

  /** Gives up the source; the window is dropped. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.done = true;
      this.start = this.end = 0;
      if (this.reuse && spareWindows.length < MAX_SPARE_WINDOWS) spareWindows.push(this.window);
      this.source.destroy();
    }
    return Promise.resolve();
  }

  /** One read towards `count` unread bytes, making room first (the unread tail moves to the front). */
  private async read(count: number): Promise<void> {
    this.makeRoom(count);
    const want = Math.min(this.window.length - this.end, Math.max(count - this.available, this.minReadBytes));
    try {
      const got = await this.source.readInto(this.window, this.end, want);
      if (got === 0) this.done = true;
      this.end += got;
      this.receivedBytes += got;
    } catch (error) {
      this.fail(error);
    }
  }

  private makeRoom(count: number): void {
    if (this.start + count <= this.window.length && this.end < this.window.length) return;
    const unread = this.available;
    if (this.reuse && count <= this.window.length) {
      this.window.copyWithin(0, this.start, this.end);
    } else {
      // A window too small for `count` doubles at least, so that growing step by step stays linear.
      const fresh = this.allocate(count <= this.window.length ? this.window.length : Math.max(count, 2 * this.window.length));
      this.window.copy(fresh, 0, this.start, this.end);
      this.window = fresh;
    }
    this.start = 0;
    this.end = unread;
  }
}
