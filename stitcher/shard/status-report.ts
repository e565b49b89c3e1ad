/**
 * What a shard tells the operator about itself, under the key `status.json` of
 * its checkpoint ConfigMap `<cloudtap>-shard-<i>-checkpoint`: the tapped bytes
 * it exported per second over the last interval and how far behind the
 * newest exported record is. The operator sums the throughput over shards,
 * takes the largest lag and calls a shard whose report is too old stalled.
 */

import type { ShardStatusReport } from '../../contract/status-report.js';

// The report's shape, key and encoding are the contract with the operator (contract/).
export { encodeShardStatus, type ShardStatusReport } from '../../contract/status-report.js';
export { STATUS_REPORT_KEY } from '../../contract/names.js';

/** The tapped bytes a shard had exported at one moment, and the newest record time among them. */
export interface ExportProgress {
  /** Tapped bytes exported since the process started; never decreases. */
  readonly bytes: number;
  /** Wall-clock time of this reading, in milliseconds since the epoch. */
  readonly atMs: number;
}

export interface ExportProgressNow extends ExportProgress {
  /** The newest exported record's time, in nanoseconds since the epoch; undefined before the first. */
  readonly newestExportedNs: bigint | undefined;
}

/**
 * The report for the interval from `previous` to `current`. Without a previous
 * reading (the first report) or without time passing the throughput is 0; a
 * record time in the future (clock skew with the gateway) is 0 lag, not a
 * negative one. Numbers keep three decimals.
 */
export function shardStatus(previous: ExportProgress | undefined, current: ExportProgressNow): ShardStatusReport {
  const elapsedMs = previous === undefined ? 0 : current.atMs - previous.atMs;
  const bytes = previous === undefined ? 0 : current.bytes - previous.bytes;
  const throughputMbps = elapsedMs > 0 && bytes > 0 ? (bytes * 8) / 1e6 / (elapsedMs / 1000) : 0;
  const report: ShardStatusReport = { throughputMbps: round3(throughputMbps), updatedAt: new Date(current.atMs).toISOString() };
  if (current.newestExportedNs === undefined) return report;
  // Whole milliseconds first: a bigint of nanoseconds since the epoch does not fit a double exactly.
  const newestMs = Number(current.newestExportedNs / 1_000_000n);
  return { ...report, lagSeconds: round3(Math.max(0, current.atMs - newestMs) / 1000) };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
