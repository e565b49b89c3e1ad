/**
 * Measurement pairs: each contender runs in a fresh process pinned to one core
 * (taskset -c 0), in rounds A B A B, and each goal is the median of the
 * per-round ratios, so that a neighbour's burst on a shared machine hits one
 * round, not the result. Every contender starts after a `sync` (untimed), so
 * that none pays for writing back what the one before it left dirty.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function rounds(): number {
  return Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
}

/** The V8 flags bin/cloudtap gives node for these cloudtap arguments (bin/node-heap-flags): the bench runs node as the launcher does. */
export function cloudtapNodeFlags(args: readonly string[]): string[] {
  const script = fileURLToPath(new URL('../../bin/node-heap-flags', import.meta.url));
  return execFileSync(script, args, { encoding: 'utf8' }).split('\n').filter((line) => line !== '');
}

export interface TimedRun {
  /** Wall seconds of the whole process, start-up included. */
  readonly seconds: number;
  readonly stdout: string;
}

/**
 * Runs `command args` pinned to core 0 and times the whole process.
 * @throws Error with the command's stderr when it exits non-zero (`okCodes` lists the other accepted codes)
 */
export function pinnedRun(command: string, args: readonly string[], okCodes: readonly number[] = [0]): TimedRun {
  execFileSync('sync');
  const started = process.hrtime.bigint();
  const result = spawnSync('taskset', ['-c', '0', command, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error !== undefined) throw new Error(`bench: ${command} did not run: ${result.error.message}`);
  if (!okCodes.includes(result.status ?? -1)) {
    throw new Error(`bench: ${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
  return { seconds, stdout: result.stdout };
}

/** `[ok]` or `[MISSED]` after a goal. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'NOT MET';
}
