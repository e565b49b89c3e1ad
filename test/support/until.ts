/** Waiting for something a test cannot be told about: a file appearing, a peer reaching a state. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** @default 10 s */
  readonly timeoutMs?: number;
  /** How often the condition is checked. @default 20 ms */
  readonly intervalMs?: number;
}

/**
 * Resolves once `condition` holds; fails naming `what` (and the last error the
 * condition threw, which counts as not yet) after `timeoutMs`.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, options: UntilOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${cause}`);
    }
    await sleep(options.intervalMs ?? 20);
  }
}
