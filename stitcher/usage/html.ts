/**
 * The usage report as one self-contained HTML page: an inline SVG chart of
 * tapped bytes per day, one stacked colour per gateway, a legend with each
 * gateway's total, and the table. No script, no external style, font or
 * image: it opens from a file, a mail attachment or an air-gapped laptop.
 */
import { periodOf, type UsageReport } from './report.js';
import type { UsageTally } from './tally.js';

/** Tableau 10: told apart by most forms of colour blindness; gateways past the ninth share the last (grey) as "other". */
export const GATEWAY_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;
const OTHER = 'other gateways';

const PLOT = { left: 90, top: 20, width: 840, height: 300 };

export interface ChartSeries {
  readonly gateway: string;
  readonly colour: string;
  readonly total: number;
}

/** The gateways the chart shows, biggest first, at most nine and "other". */
export function chartSeries(tally: UsageTally): ChartSeries[] {
  const totals = new Map<string, number>();
  for (const hour of tally.hours) totals.set(hour.gateway, (totals.get(hour.gateway) ?? 0) + hour.trafficBytes);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = ranked.length <= GATEWAY_COLOURS.length ? ranked : ranked.slice(0, GATEWAY_COLOURS.length - 1);
  const series: ChartSeries[] = shown.map(([gateway, total], i) => ({ gateway, colour: GATEWAY_COLOURS[i]!, total }));
  if (shown.length < ranked.length) {
    const rest = ranked.slice(shown.length).reduce((sum, [, total]) => sum + total, 0);
    series.push({ gateway: OTHER, colour: GATEWAY_COLOURS[GATEWAY_COLOURS.length - 1]!, total: rest });
  }
  return series;
}

export function renderUsageHtml(tally: UsageTally, report: UsageReport, formatBytes: (n: number) => string): string {
  const series = chartSeries(tally);
  const shown = new Set(series.map((s) => s.gateway));
  const days = new Map<string, Map<string, number>>();
  for (const hour of tally.hours) {
    const day = periodOf(hour.hour, 'day');
    const gateway = shown.has(hour.gateway) ? hour.gateway : OTHER;
    const perGateway = days.get(day) ?? new Map<string, number>();
    perGateway.set(gateway, (perGateway.get(gateway) ?? 0) + hour.trafficBytes);
    days.set(day, perGateway);
  }
  const title = `cloudtap usage: ${report.source}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #555; margin: 0 0 16px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 8px 20px; }
.legend span.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; margin-top: 16px; }
th, td { padding: 2px 10px; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p class="meta">${escape(rangeText(report))}: ${report.total.objects} objects, ${escape(formatBytes(report.total.bytes))} tapped, from listing alone.</p>
${chartSvg(days, series, formatBytes)}
<ul class="legend">
${series.map((s) => `<li><span class="swatch" style="background:${s.colour}"></span>${escape(s.gateway)}: ${escape(formatBytes(s.total))}</li>`).join('\n')}
</ul>
${tableHtml(report, formatBytes)}
</body>
</html>
`;
}

function chartSvg(days: Map<string, Map<string, number>>, series: readonly ChartSeries[], formatBytes: (n: number) => string): string {
  const dayList = [...days.keys()].sort();
  const width = PLOT.left + PLOT.width + 20;
  const height = PLOT.top + PLOT.height + 60;
  const max = Math.max(1, ...dayList.map((day) => [...days.get(day)!.values()].reduce((a, b) => a + b, 0)));
  const top = niceCeiling(max);
  const slot = PLOT.width / Math.max(1, dayList.length);
  const barWidth = Math.max(1, Math.floor(slot * 0.7));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (top * i) / 4;
    const y = PLOT.top + PLOT.height - (PLOT.height * i) / 4;
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left + PLOT.width}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${y + 4}" text-anchor="end" font-size="12" fill="#555">${escape(formatBytes(value))}</text>`);
  }
  const labelEvery = Math.ceil(dayList.length / 14);
  dayList.forEach((day, i) => {
    const x = Math.round(PLOT.left + i * slot + (slot - barWidth) / 2);
    let y = PLOT.top + PLOT.height;
    for (const s of series) {
      const bytes = days.get(day)!.get(s.gateway) ?? 0;
      if (bytes === 0) continue;
      const h = (PLOT.height * bytes) / top;
      parts.push(`<rect x="${x}" y="${(y - h).toFixed(2)}" width="${barWidth}" height="${h.toFixed(2)}" fill="${s.colour}"><title>${escape(`${day} ${s.gateway}: ${formatBytes(bytes)}`)}</title></rect>`);
      y -= h;
    }
    if (i % labelEvery === 0) {
      parts.push(`<text x="${x + barWidth / 2}" y="${PLOT.top + PLOT.height + 18}" text-anchor="middle" font-size="12" fill="#555">${escape(day.slice(5))}</text>`);
    }
  });
  parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left + PLOT.width}" y1="${PLOT.top + PLOT.height}" y2="${PLOT.top + PLOT.height}" stroke="#888"/>`);
  parts.push(`<text x="${PLOT.left + PLOT.width / 2}" y="${height - 12}" text-anchor="middle" font-size="12" fill="#555">tapped bytes per day (UTC), stacked by gateway</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" shape-rendering="crispEdges" role="img" aria-label="tapped bytes per day and gateway">\n${parts.join('\n')}\n</svg>`;
}

function tableHtml(report: UsageReport, formatBytes: (n: number) => string): string {
  const byGateway = report.by.includes('gateway');
  const head = `<tr><th>${escape(report.by[0]!)}</th>${byGateway ? '<th>gateway</th>' : ''}<th>objects</th><th>bytes</th><th>key objects</th></tr>`;
  const rows = report.rows.map((row) => `<tr><td>${escape(row.period)}</td>${byGateway ? `<td>${escape(row.gateway ?? '')}</td>` : ''}<td class="n">${row.objects}</td><td class="n" title="${row.bytes}">${escape(formatBytes(row.bytes))}</td><td class="n">${row.keyObjects}</td></tr>`);
  const t = report.total;
  rows.push(`<tr><th>total</th>${byGateway ? '<td></td>' : ''}<td class="n">${t.objects}</td><td class="n" title="${t.bytes}">${escape(formatBytes(t.bytes))}</td><td class="n">${t.keyObjects}</td></tr>`);
  return `<table>\n${head}\n${rows.join('\n')}\n</table>`;
}

function rangeText(report: UsageReport): string {
  if (report.from === undefined && report.to === undefined) return 'every hour in the store';
  return `${report.from ?? 'the start'} to ${report.to ?? 'now'}`;
}

/** The axis top: 1, 2 or 5 times a power of ten, at or above `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
