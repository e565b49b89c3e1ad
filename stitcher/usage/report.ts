/**
 * A usage tally grouped the way the user asked (by day or hour, optionally by
 * gateway) and written as a table, CSV or JSON.
 */
import type { HourTally, UsageTally } from './tally.js';

export type Period = 'day' | 'hour';

export interface UsageRow {
  /** `2026-11-25` (day) or `2026-11-25T14:00Z` (hour). */
  readonly period: string;
  /** Present when grouped by gateway. */
  readonly gateway?: string;
  readonly objects: number;
  readonly bytes: number;
  readonly keyObjects: number;
  readonly keyBytes: number;
}

export interface UsageReport {
  readonly source: string;
  readonly from?: string;
  readonly to?: string;
  readonly by: readonly string[];
  readonly rows: readonly UsageRow[];
  readonly total: Omit<UsageRow, 'period' | 'gateway'>;
  readonly gateways: readonly string[];
}

export function periodOf(hour: string, by: Period): string {
  return by === 'day' ? hour.slice(0, 10) : `${hour.slice(0, 13)}:00Z`;
}

export function buildReport(tally: UsageTally, options: { source: string; from?: Date; to?: Date; period: Period; byGateway: boolean }): UsageReport {
  const rows = new Map<string, { period: string; gateway?: string; objects: number; bytes: number; keyObjects: number; keyBytes: number }>();
  for (const hour of tally.hours) {
    const period = periodOf(hour.hour, options.period);
    const id = options.byGateway ? `${period}|${hour.gateway}` : period;
    const row = rows.get(id) ?? { period, ...(options.byGateway ? { gateway: hour.gateway } : {}), objects: 0, bytes: 0, keyObjects: 0, keyBytes: 0 };
    addHour(row, hour);
    rows.set(id, row);
  }
  const total = { objects: 0, bytes: 0, keyObjects: 0, keyBytes: 0 };
  for (const hour of tally.hours) addHour(total, hour);
  return {
    source: options.source,
    ...(options.from !== undefined ? { from: options.from.toISOString() } : {}),
    ...(options.to !== undefined ? { to: options.to.toISOString() } : {}),
    by: [options.period, ...(options.byGateway ? ['gateway'] : [])],
    rows: [...rows.values()],
    total,
    gateways: [...new Set(tally.hours.map((hour) => hour.gateway))].sort(),
  };
}

function addHour(row: { objects: number; bytes: number; keyObjects: number; keyBytes: number }, hour: HourTally): void {
  row.objects += hour.trafficObjects;
  row.bytes += hour.trafficBytes;
  row.keyObjects += hour.keyObjects;
  row.keyBytes += hour.keyBytes;
}

export function reportJson(report: UsageReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function reportCsv(report: UsageReport): string {
  const byGateway = report.by.includes('gateway');
  const header = ['period', ...(byGateway ? ['gateway'] : []), 'objects', 'bytes', 'key_objects', 'key_bytes'];
  const lines = report.rows.map((row) => [row.period, ...(byGateway ? [row.gateway ?? ''] : []), row.objects, row.bytes, row.keyObjects, row.keyBytes].join(','));
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

export function reportTable(report: UsageReport, formatBytes: (n: number) => string): string {
  const byGateway = report.by.includes('gateway');
  const header = [report.by[0]!.toUpperCase(), ...(byGateway ? ['GATEWAY'] : []), 'OBJECTS', 'BYTES', 'KEY OBJECTS'];
  const cells = report.rows.map((row) => [row.period, ...(byGateway ? [row.gateway ?? ''] : []), String(row.objects), formatBytes(row.bytes), String(row.keyObjects)]);
  cells.push(['total', ...(byGateway ? [''] : []), String(report.total.objects), formatBytes(report.total.bytes), String(report.total.keyObjects)]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i]!.length)));
  // Text left, numbers right, as `kubectl top` and `df` do.
  const textColumns = byGateway ? 2 : 1;
  const line = (row: string[]): string => row.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}
