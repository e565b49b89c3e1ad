/**
 * A bounded look-ahead over an async byte stream: a queue of chunks that
 * grows only as far as the reader asks (one block at most), and is never
 * concatenated as a whole.
 */
import { ReadInput } from './read-input.js';

export class StreamBuffer extends ReadInput {
  private chunks: Buffer[] = [];
  /** Start of the unread bytes in chunks[0]. */
  private head = 0;
  private buffered = 0;
  private iterator: AsyncIterator<unknown> | undefined;

  constructor(private readonly source: AsyncIterable<Uint8Array>) {
    super();
  }

  get available(): number {
    return this.buffered;
  }

  /** Pulls chunks until `count` bytes are unread; false when the stream ends first. */
  async ensure(count: number): Promise<boolean> {
    while (this.buffered < count && !this.done) await this.pull();
    return this.buffered >= count;
  }

  /** Pulls one more chunk (or learns that the stream is over). */
  async pull(): Promise<void> {
    if (this.done) return;
    try {
      this.iterator ??= this.source[Symbol.asyncIterator]();
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else this.push(next.value);
    } catch (error) {
      this.fail(error);
    }
  }

  private push(chunk: unknown): void {
    // A Readable with an encoding set gives strings: bytes would be guessed, so refuse.
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`source gave a chunk of type ${typeof chunk}, expected bytes`);
    if (chunk.length === 0) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    this.receivedBytes += bytes.length;
  }

  /**
   * The next `count` unread bytes (count <= available), without consuming
   * them. A view when they lie in one chunk; else they are copied once into
   * one chunk that replaces the pieces, so that looking again is free.
   */
  peek(count: number): Buffer {
    if (count > this.buffered) throw new RangeError(`peek of ${count} bytes with only ${this.buffered} buffered`);
    if (count === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length - this.head >= count) return first.subarray(this.head, this.head + count);
    const joined = Buffer.allocUnsafe(count);
    let filled = 0;
    let used = 0;
    let from = this.head;
    let tail: Buffer | undefined;
    while (filled < count) {
      const chunk = this.chunks[used++];
      const take = Math.min(chunk.length - from, count - filled);
      chunk.copy(joined, filled, from, from + take);
      filled += take;
      // Only the last chunk can be partly taken: its tail stays queued.
      if (from + take < chunk.length) tail = chunk.subarray(from + take);
      from = 0;
    }
    if (tail === undefined) this.chunks.splice(0, used, joined);
    else this.chunks.splice(0, used, joined, tail);
    this.head = 0;
    return joined;
  }

  /** Consumes `count` unread bytes (count <= available). */
  skip(count: number): void {
    if (count > this.buffered) throw new RangeError(`skip of ${count} bytes with only ${this.buffered} buffered`);
    this.buffered -= count;
    this.position += count;
    let left = count + this.head;
    while (this.chunks.length > 0 && left >= this.chunks[0].length) {
      left -= this.chunks[0].length;
      this.chunks.shift();
    }
    this.head = this.chunks.length > 0 ? left : 0;
  }

  /** Stops reading: tells the source that no more is wanted. */
  async close(): Promise<void> {
    const finished = this.done;
    this.done = true;
    this.chunks = [];
    this.buffered = 0;
    this.head = 0;
    if (!finished && this.iterator !== undefined) {
      try {
        await this.iterator.return?.();
      } catch {
        // The source is abandoned either way; its own error adds nothing here.
      }
    }
  }
}
