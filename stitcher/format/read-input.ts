/**
 * The reader's look-ahead over an object's bytes, whichever way they arrive:
 * StreamBuffer queues the chunks of a stream, ReadWindow reads a file into one
 * window in place. What the two keep alike lives here: where the reader is,
 * what has come in, how the source ended, and the scan for a magic. A source
 * that fails counts as ended; the error is kept for the report.
 */
export abstract class ReadInput {
  protected position = 0;
  protected receivedBytes = 0;
  protected done = false;
  protected failure: Error | undefined;

  /** Offset in the object of the next unread byte. */
  get offset(): number {
    return this.position;
  }

  /** Unread bytes in memory. */
  abstract get available(): number;

  /** Bytes received from the source so far. */
  get received(): number {
    return this.receivedBytes;
  }

  /** Whether the source has nothing more to give (ended or failed). */
  get ended(): boolean {
    return this.done;
  }

  /** Why the source failed, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Reads until `count` bytes are unread; false when the source ends first. */
  abstract ensure(count: number): Promise<boolean>;

  /** Reads once more (or learns that the source is over). */
  abstract pull(): Promise<void>;

  /** The next `count` unread bytes (count <= available), without consuming them. */
  abstract peek(count: number): Buffer;

  /** Consumes `count` unread bytes (count <= available). */
  abstract skip(count: number): void;

  /** Stops reading and gives up the source. */
  abstract close(): Promise<void>;

  /**
   * Where the first of `needles` starts among the unread bytes, or -1. Rare
   * path (resynchronisation): a StreamBuffer joins its chunks for it.
   */
  indexOfAny(needles: readonly Buffer[]): number {
    if (this.available === 0) return -1;
    const bytes = this.peek(this.available);
    let best = -1;
    for (const needle of needles) {
      const found = bytes.indexOf(needle);
      if (found >= 0 && (best < 0 || found < best)) best = found;
    }
    return best;
  }

  /** The source failed: it is over, and the error is kept for the report. */
  protected fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.done = true;
  }
}
