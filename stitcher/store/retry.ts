/**
 * Retries for calls to an object store: capped exponential backoff with full
 * jitter (a random wait between 0 and min(cap, base * 2^attempt)), so a fleet
 * of readers throttled together does not come back together. Each attempt
 * gets its own deadline; a stalled request is abandoned and tried again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { faultOf } from './faults.js';

export interface RetryOptions {
  /** Attempts in all, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** The backoff before the second attempt (its upper bound). @default 100 */
  readonly baseDelayMs?: number;
  /** The cap on any one backoff. @default 10000 */
  readonly maxDelayMs?: number;
  /** How long one attempt may take before it is abandoned (for reads: until the response starts). @default 30000 */
  readonly attemptTimeoutMs?: number;
  /** How long a streaming read may go without a byte before it is resumed. @default 30000 */
  readonly idleTimeoutMs?: number;
  /** Called before each wait, for logs and metrics (no secrets in `error`'s fault). */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** The source of randomness for jitter, for tests. @default Math.random */
  readonly random?: () => number;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'onRetry' | 'random'>> = {
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  attemptTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
};

/**
 * Options for writing `bytes` in one request: the attempt deadline grows by a
 * second per MiB, so a large object on a slow link is not abandoned half sent.
 */
export function forUpload(options: RetryOptions, bytes: number): RetryOptions {
  const base = options.attemptTimeoutMs ?? DEFAULT_RETRY.attemptTimeoutMs;
  return { ...options, attemptTimeoutMs: base + Math.ceil(bytes / (1 << 20)) * 1000 };
}

/** The wait before retry number `retry` (1 for the first retry): full jitter under a capped exponential. */
export function backoffDelay(retry: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const ceiling = Math.min(cap, base * 2 ** Math.min(retry - 1, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Raised when one attempt overran its deadline; classified as transient. */
export class AttemptTimeout extends Error {
  readonly code = 'StoreTimeout';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

/**
 * Runs `attempt` until it succeeds, fails with a fault that is not transient,
 * or runs out of attempts; then rethrows the last error as it came.
 * `attempt` gets a signal that aborts when its deadline passes.
 */
export async function withRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
  dispose?: (abandoned: T) => void,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  for (let number = 1; ; number++) {
    try {
      return await withDeadline(attempt, options.attemptTimeoutMs ?? DEFAULT_RETRY.attemptTimeoutMs, dispose);
    } catch (error) {
      if (number >= maxAttempts || faultOf(error).kind !== 'transient') throw error;
      const delay = backoffDelay(number, options);
      options.onRetry?.(number, delay, error);
      await sleep(delay);
    }
  }
}

/**
 * Runs one attempt with a deadline; the attempt is aborted and abandoned when it passes,
 * and what it yields after that (a response stream, say) goes to `dispose`.
 */
export async function withDeadline<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  dispose?: (abandoned: T) => void,
): Promise<T> {
  let late = false;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      late = true;
      const timeout = new AttemptTimeout(timeoutMs);
      controller.abort(timeout);
      reject(timeout);
    }, timeoutMs);
  });
  const running = attempt(controller.signal);
  // An attempt abandoned at its deadline may still fail later: that failure is not news.
  running.then((value) => { if (late) dispose?.(value); }, () => undefined);
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
