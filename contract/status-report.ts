/**
 * What a shard tells the operator about itself, under STATUS_REPORT_KEY of its
 * checkpoint ConfigMap: tapped bytes exported per second over the last interval
 * and how far behind the newest exported record is.
 */

export interface ShardStatusReport {
  /** Tapped bytes exported per second over the last interval, in Mbit/s (10^6 bit/s). */
  readonly throughputMbps: number;
  /** Now minus the newest exported record's time; absent until a record was exported. */
  readonly lagSeconds?: number;
  /** When this report was made (ISO 8601, milliseconds). */
  readonly updatedAt: string;
}

/** The report as stored in the ConfigMap. */
export function encodeShardStatus(report: ShardStatusReport): string {
  return JSON.stringify(report);
}

/**
 * The report, or what is wrong with it as a phrase ("is not JSON"); never the
 * text itself, so that a damaged report cannot flood a condition message.
 */
export function decodeShardStatus(text: string): ShardStatusReport | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const report = value as Partial<Record<keyof ShardStatusReport, unknown>>;
  if (typeof report.throughputMbps !== 'number' || !(report.throughputMbps >= 0)) return 'has no throughputMbps >= 0';
  if (report.lagSeconds !== undefined && (typeof report.lagSeconds !== 'number' || !(report.lagSeconds >= 0))) return 'has a lagSeconds that is not a number >= 0';
  if (typeof report.updatedAt !== 'string' || Number.isNaN(Date.parse(report.updatedAt))) return 'has no ISO time in updatedAt';
  return {
    throughputMbps: report.throughputMbps,
    ...(report.lagSeconds !== undefined ? { lagSeconds: report.lagSeconds } : {}),
    updatedAt: report.updatedAt,
  };
}
