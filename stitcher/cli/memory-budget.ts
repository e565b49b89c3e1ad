/**
 * The stitcher's memory budget (`--max-buffer`) and how it is shared: the flow
 * table takes half (held bytes, their bookkeeping, early records, open flows),
 * the key gate of pcapng outputs, the clear-text decryptors and the TLS session
 * keys 5/32 each, the memory of key log lines already passed on the last 1/32.
 * In a container without `--max-buffer` the budget is a share of the cgroup's
 * memory limit, so a pod's defaults fit the memory it was given; the rest of
 * the limit is the runtime's (heap, read-ahead, output buffers).
 */
import { readFileSync } from 'node:fs';

/** Without a cgroup limit. */
export const DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024;
/** The share of a cgroup memory limit the budget takes by default. */
export const CGROUP_SHARE = 0.4;
const MIN_BUDGET_BYTES = 16 * 1024 * 1024;

export interface BudgetShares {
  readonly totalBytes: number;
  readonly flowTableBytes: number;
  readonly keyGateBytes: number;
  readonly decryptorBytes: number;
  /** The TLS session keys (KeyStore). */
  readonly keySessionsBytes: number;
  /** The key log lines already passed on (SeenKeyLines). */
  readonly keyLinesBytes: number;
  /** Where the total came from, for the log. */
  readonly source: '--max-buffer' | 'cgroup' | 'default';
}

/** Files that say a cgroup's memory limit: v2, then v1. */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** The memory limit of this process's cgroup, or undefined when there is none (or it is "max"). */
export function cgroupMemoryLimit(files: readonly string[] = CGROUP_LIMIT_FILES): number | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    // v1 says "no limit" with a huge number near 2^63.
    if (text === 'max' || !Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
    return bytes;
  }
  return undefined;
}

export function budgetShares(maxBuffer: number | undefined, cgroupLimit: number | undefined = cgroupMemoryLimit()): BudgetShares {
  const [totalBytes, source] = maxBuffer !== undefined
    ? [maxBuffer, '--max-buffer' as const]
    : cgroupLimit !== undefined
      ? [Math.max(MIN_BUDGET_BYTES, Math.floor(cgroupLimit * CGROUP_SHARE)), 'cgroup' as const]
      : [DEFAULT_BUDGET_BYTES, 'default' as const];
  return {
    totalBytes,
    flowTableBytes: Math.floor(totalBytes / 2),
    keyGateBytes: Math.floor((totalBytes * 5) / 32),
    decryptorBytes: Math.floor((totalBytes * 5) / 32),
    keySessionsBytes: Math.floor((totalBytes * 5) / 32),
    keyLinesBytes: Math.floor(totalBytes / 32),
    source,
  };
}
