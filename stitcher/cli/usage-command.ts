/** `cloudtap usage`: what the gateways copied into the bucket, per day or hour and gateway, from listing alone. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openStore } from '../store/open.js';
import { tallyUsage } from '../usage/tally.js';
import { buildReport, reportCsv, reportJson, reportTable, type Period } from '../usage/report.js';
import { renderUsageHtml } from '../usage/html.js';
import { formatBytes, formatCount, Progress } from './progress.js';
import { UsageError } from './usage-error.js';

export const USAGE_USAGE = `usage: cloudtap usage --source <url> [--from <time>] [--to <time>] [--by day|hour] [--by gateway] [--json|--csv] [--html <file>]
  --source <url>        the bucket or folder the gateways write to (same URLs as stitch: file://, s3://, gs://, azblob://)
  --credentials <file>  credentials for the source (default: the provider's ambient identity)
  --from <time> --to <time>
                        only the hour folders between these (ISO 8601, UTC); without either, the whole store is listed;
                        with one, the other is now or 31 days before --to
  --by day|hour         one row per UTC day (default) or hour; add --by gateway for one row per gateway too
  --json, --csv         machine-readable output instead of the table
  --html <file>         also write a self-contained page with a chart of bytes per day and gateway
  --quiet               no progress line
Only listings are made: no object is downloaded. Sizes are those of the CTAP objects (traffic) and key objects.`;

export async function usageCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      source: { type: 'string' }, credentials: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      by: { type: 'string', multiple: true }, json: { type: 'boolean' }, csv: { type: 'boolean' }, html: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.source === undefined) throw new UsageError('usage: --source <url> is required (e.g. s3://bucket/prefix)');
  if (values.json === true && values.csv === true) throw new UsageError('usage: --json and --csv exclude each other');
  const { period, byGateway } = grouping(values.by ?? []);
  const from = time(values.from, '--from');
  const to = time(values.to, '--to');
  if (from !== undefined && to !== undefined && to < from) throw new UsageError(`usage: --to ${to.toISOString()} is before --from ${from.toISOString()}`);
  const store = await openStore(values.source, { credentialsFile: values.credentials, role: 'source' });
  const progress = new Progress(process.stderr, values.quiet !== true);
  try {
    const tally = await tallyUsage(store, { from, to }, {
      onProgress: (listed, done, total) => progress.update(`listing ${store.description}: ${formatCount(listed)} objects${total === undefined ? '' : `, hour ${done + 1} of ${total}`}`),
    });
    progress.done();
    const report = buildReport(tally, { source: store.description, from, to, period, byGateway });
    process.stdout.write(values.json === true ? reportJson(report) : values.csv === true ? reportCsv(report) : reportTable(report, formatBytes));
    if (values.html !== undefined) writeFileSync(values.html, renderUsageHtml(tally, report, formatBytes));
    return 0;
  } finally {
    await store.close?.();
  }
}

function grouping(by: readonly string[]): { period: Period; byGateway: boolean } {
  let period: Period = 'day';
  let byGateway = false;
  for (const value of by) {
    if (value === 'day' || value === 'hour') period = value;
    else if (value === 'gateway') byGateway = true;
    else throw new UsageError(`usage: --by '${value}' is not day, hour or gateway`);
  }
  return { period, byGateway };
}

function time(text: string | undefined, what: string): Date | undefined {
  if (text === undefined) return undefined;
  const value = new Date(text);
  if (Number.isNaN(value.getTime())) throw new UsageError(`usage: ${what} '${text}' is not a time (use e.g. 2026-11-25T14:00Z)`);
  return value;
}
