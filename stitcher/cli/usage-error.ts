/** A mistake in how the CLI was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `250ms`, `10s`, `5m`, `1h` (a bare number is seconds). */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`${what}: '${text}' is not a duration (use e.g. 500ms, 10s, 5m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Parses a whole number within bounds. */
export function parseCount(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${what}: '${text}' is not a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Parses a byte size: `4096`, `64K`, `8M`, `1G` (powers of 1024). */
export function parseSize(text: string, what: string): number {
  const match = /^(\d+)([KMG])?B?$/i.exec(text.trim());
  if (match === null) throw new UsageError(`${what}: '${text}' is not a size (use e.g. 64K, 8M, 1G)`);
  const shift = { '': 0, K: 10, M: 20, G: 30 }[(match[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * 2 ** shift;
}
