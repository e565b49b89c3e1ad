/**
 * A streaming read that survives a broken or stalled connection: when the
 * body fails part way, the object is asked for again from the byte reached
 * (a Range request pinned to the same version), so every byte comes out
 * exactly once and in order. A body that ends short of the object's size is
 * a failure too, not the end.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { faultOf } from './faults.js';
import { AttemptTimeout, backoffDelay, DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';

/** One response: the body from `start`, and what the store said about the whole object. */
export interface RangeResponse {
  readonly body: Readable;
  /** The size of the whole object in bytes. */
  readonly size: number;
  /** The version read (ETag, generation), so resumed reads ask for the same bytes. */
  readonly version?: string;
}

/**
 * Opens the object from byte `start` (0: the whole object). With `version`,
 * the store must refuse (412, a 'changed' fault) if the object is no longer that version.
 */
export type RangeOpener = (start: number, version: string | undefined, signal: AbortSignal) => Promise<RangeResponse>;

class TruncatedRead extends Error {
  readonly code = 'TruncatedRead';
  constructor(reached: number, size: number) {
    super(`the body ended at byte ${reached} of ${size}`);
  }
}

/**
 * The object's bytes as one stream. Errors (after every retry) are passed
 * through `wrap`, which names the object and store.
 */
export function resumableRead(open: RangeOpener, options: RetryOptions, wrap: (error: unknown) => Error): Promise<Readable> {
  const chunks = resumingChunks(open, options);
  // The first response comes before the stream is handed out, so a missing object rejects here.
  return chunks.next().then(
    // Object mode hands each Buffer on as it came: a byte-mode stream would concatenate (copy) what it buffered.
    (first) => Readable.from(prepend(first, chunks, wrap), { objectMode: true, highWaterMark: 16 }),
    (error: unknown) => { throw wrap(error); },
  );
}

async function* prepend(
  first: IteratorResult<Buffer>,
  rest: AsyncGenerator<Buffer>,
  wrap: (error: unknown) => Error,
): AsyncGenerator<Buffer> {
  if (first.done === true) return;
  yield first.value;
  try {
    yield* rest;
  } catch (error) {
    throw wrap(error);
  }
}

async function* resumingChunks(open: RangeOpener, options: RetryOptions): AsyncGenerator<Buffer> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_RETRY.idleTimeoutMs;
  let reached = 0;
  let version: string | undefined;
  let size: number | undefined;
  let failures = 0;
  for (;;) {
    const response = await withRetry((signal) => open(reached, version, signal), options, (late) => late.body.destroy());
    version ??= response.version;
    size ??= response.size;
    try {
      for await (const chunk of bodyWithIdleTimeout(response.body, idleMs)) {
        if (chunk.length === 0) continue;
        reached += chunk.length;
        failures = 0;
        yield chunk;
      }
      if (reached < size) throw new TruncatedRead(reached, size);
      return;
    } catch (error) {
      response.body.destroy();
      failures += 1;
      if (failures >= maxAttempts || faultOf(error).kind !== 'transient') throw error;
      const delay = backoffDelay(failures, options);
      options.onRetry?.(failures, delay, error);
      await sleep(delay);
    }
  }
}

/**
 * The body's chunks; fails with a transient timeout when no byte comes for
 * `idleMs`. Time the consumer spends with a chunk does not count. One timer
 * per body, re-armed per chunk, keeps this cheap on the data path.
 */
async function* bodyWithIdleTimeout(body: Readable, idleMs: number): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let waiting = false;
  let rejectIdle: (error: Error) => void = () => undefined;
  const idle = new Promise<never>((_resolve, reject) => { rejectIdle = reject; });
  idle.catch(() => undefined);
  const timer = setTimeout(() => { if (waiting) rejectIdle(new AttemptTimeout(idleMs)); }, idleMs);
  try {
    for (;;) {
      waiting = true;
      timer.refresh();
      const next = await Promise.race([iterator.next(), idle]);
      waiting = false;
      if (next.done === true) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
}
