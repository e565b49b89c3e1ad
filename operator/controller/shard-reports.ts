/**
 * Throughput and lag in the CloudTap status, from the reports the shards
 * write under `status.json` in their checkpoint ConfigMaps
 * (stitcher/shard/status-report.ts). The throughput is the sum over the
 * shards, the lag the largest; only fresh reports count, and a shard whose
 * report is too old is called stalled (the Degraded condition says so).
 *
 * The numbers move all the time, and a status write wakes every watcher of
 * CloudTaps, so a new number is written only when it moved by more than
 * noise: the throughput by more than 10% (and 0.1 Mbit/s), the lag by
 * more than 10% and at least one poll interval (the lag saws up and down by
 * a poll interval as BLOBs are listed). Steady traffic then writes nothing.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { decodeShardStatus } from '../../contract/status-report.js';
import { CHECKPOINT_SELECTOR, STATUS_REPORT_KEY } from '../../contract/names.js';
import { defaultStitcher } from '../api/defaults.js';
import { names } from '../specs/names.js';

/** The key of the report in a checkpoint ConfigMap. */
export const statusReportKey = STATUS_REPORT_KEY;

/** The labels the stitchers put on their checkpoint ConfigMaps: what the operator watches. */
export const checkpointSelector = CHECKPOINT_SELECTOR;

/** How often a shard reports: the stitcher's checkpoint interval. */
export const defaultReportIntervalMs = 10_000;

/** A report is stale after this many report or poll intervals, whichever is longer. */
export const staleAfterIntervals = 6;

/** Relative change of throughput or lag below which the stored number stays. */
export const significantChange = 0.1;

/** Absolute throughput change below which the stored number stays, in Mbit/s. */
export const significantMbps = 0.1;

/**
 * A checkpoint ConfigMap as the operator caches it: metadata and the report,
 * without the checkpoint itself (it can be large, and the operator never reads it).
 */
export function reportOnly(configMap: V1ConfigMap): V1ConfigMap {
  const report = configMap.data?.[statusReportKey];
  const kept: V1ConfigMap = { apiVersion: configMap.apiVersion, kind: configMap.kind, metadata: configMap.metadata };
  return report === undefined ? kept : { ...kept, data: { [statusReportKey]: report } };
}

export interface ReportOptions {
  /** The time to judge reports at, ms since the epoch. @default Date.now() */
  readonly nowMs?: number;
  /** How often shards report. @default 10000 (the stitcher's checkpoint interval) */
  readonly reportIntervalMs?: number;
}

export interface ReportedLoad {
  /** Sum over fresh reports, 2 significant digits; undefined without any fresh report. */
  readonly throughputMbps?: number;
  /** Largest over fresh reports, whole seconds; undefined without a fresh report that has one. */
  readonly lagSeconds?: number;
  /** A shard whose report is stale or unreadable, as "shard 1: reason". */
  readonly stalled: readonly string[];
  /** When the first fresh report goes stale, in ms from now: look again then. */
  readonly recheckAfterMs?: number;
}

/**
 * Throughput and lag from the checkpoint ConfigMaps of the current shards
 * (`configMap(name)` looks one up by name), kept as stored where they moved
 * by no more than noise. Reports older than the CloudTap are leftovers of a
 * deleted namesake and count as absent; so do shards that never reported.
 */
export function reportedLoad(cloudTap: CloudTap, shards: number, configMap: (name: string) => V1ConfigMap | undefined, options: ReportOptions = {}): ReportedLoad {
  const nowMs = options.nowMs ?? Date.now();
  const staleAfterMs = staleAfterIntervals * Math.max(options.reportIntervalMs ?? defaultReportIntervalMs, pollIntervalMs(cloudTap));
  const createdMs = cloudTap.metadata.creationTimestamp ? Date.parse(cloudTap.metadata.creationTimestamp) : Number.NEGATIVE_INFINITY;
  let throughput: number | undefined;
  let lag: number | undefined;
  let recheckAfterMs: number | undefined;
  const stalled: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const name = names.checkpoint(cloudTap.metadata.name, shard);
    const text = configMap(name)?.data?.[statusReportKey];
    if (text === undefined) continue;
    const report = decodeShardStatus(text);
    if (typeof report === 'string') {
      stalled.push(`shard ${shard}: ${statusReportKey} in ConfigMap ${name} ${report}`);
      continue;
    }
    const updatedMs = Date.parse(report.updatedAt);
    // Within a second of the creation: Kubernetes times have whole seconds.
    if (updatedMs < createdMs - 1000) continue;
    const ageMs = nowMs - updatedMs;
    if (ageMs > staleAfterMs) {
      stalled.push(`shard ${shard}: no status report since ${report.updatedAt}`);
      continue;
    }
    throughput = (throughput ?? 0) + report.throughputMbps;
    if (report.lagSeconds !== undefined) lag = Math.max(lag ?? 0, report.lagSeconds);
    recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, staleAfterMs - ageMs + 1000);
  }
  const stored = cloudTap.status;
  const throughputMbps = throughput === undefined ? undefined : settled(stored?.throughputMbps, roundSignificant(throughput, 2), significantMbps);
  const lagSeconds = lag === undefined ? undefined : settled(stored?.lagSeconds, Math.round(lag), pollIntervalMs(cloudTap) / 1000);
  return {
    ...(throughputMbps === undefined ? {} : { throughputMbps }),
    ...(lagSeconds === undefined ? {} : { lagSeconds }),
    stalled,
    ...(recheckAfterMs === undefined ? {} : { recheckAfterMs }),
  };
}

/** The stored number while `next` is within noise of it, else `next`. */
export function settled(stored: number | undefined, next: number, absoluteNoise: number): number {
  if (stored === undefined) return next;
  const difference = Math.abs(next - stored);
  return difference <= absoluteNoise || difference <= significantChange * Math.max(stored, next) ? stored : next;
}

export function roundSignificant(value: number, digits: number): number {
  if (value === 0) return 0;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** spec.stitcher.pollInterval in ms ("1m30s"); the CRD's pattern guarantees the form. */
export function pollIntervalMs(cloudTap: CloudTap): number {
  const text = defaultStitcher(cloudTap.spec.stitcher).pollInterval;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) total += Number(amount) * durationUnits[unit!]!;
  return total;
}
