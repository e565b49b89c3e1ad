/**
 * `cloudtap usage` on a folder laid out as gateways write buckets: the sizes
 * it reports are the ones written, it never reads an object, and its HTML
 * page, rendered by a real browser, shows bars whose coloured areas are in
 * the proportion of each gateway's bytes.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { countingStore, StoreCallCounts } from '../../stitcher/store/counting-store.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { tallyUsage } from '../../stitcher/usage/tally.js';
import { chartSeries, GATEWAY_COLOURS } from '../../stitcher/usage/html.js';
import { cloudtap, cloudtapOk } from '../support/cli.js';
import { countColour, decodePng } from '../support/png.js';

const run = promisify(execFile);
const chromium = '/usr/bin/chromium';

/** Bytes per traffic object: gw-c writes most, gw-b least; every day more than the one before. */
const GATEWAYS = { 'gw-a': 3000, 'gw-b': 1000, 'gw-c': 6000 } as const;
const DAYS = ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'];
const HOURS = [3, 15];

function trafficBytes(gateway: keyof typeof GATEWAYS, dayIndex: number): number {
  return GATEWAYS[gateway] * (dayIndex + 1);
}

describe('cloudtap usage', function () {
  this.timeout(60_000);
  let bucket: string;
  let work: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'cloudtap-usage-'));
    bucket = join(work, 'bucket');
    DAYS.forEach((day, dayIndex) => {
      for (const hour of HOURS) {
        for (const gateway of Object.keys(GATEWAYS) as (keyof typeof GATEWAYS)[]) {
          const folder = join(bucket, ...day.split('-'), String(hour).padStart(2, '0'), gateway);
          mkdirSync(folder, { recursive: true });
          const seq = String(dayIndex * 100 + hour).padStart(20, '0');
          // Not CTAP inside: usage must not care, since it never reads an object.
          writeFileSync(join(folder, `${seq}.ctap`), Buffer.alloc(trafficBytes(gateway, dayIndex), 0x55));
          writeFileSync(join(folder, `${seq}.keys`), 'CLIENT_RANDOM x y\n');
        }
      }
    });
    writeFileSync(join(bucket, 'README.txt'), 'not an object of the layout');
  });

  it('sums the bytes per day and gateway that were written, with a total', async () => {
    const { stdout } = await cloudtapOk(['usage', '--source', `file://${bucket}`, '--by', 'gateway', '--json', '--quiet']);
    const report = JSON.parse(stdout) as { rows: { period: string; gateway: string; objects: number; bytes: number; keyObjects: number }[]; total: { bytes: number; objects: number } };
    expect(report.rows).to.have.length(DAYS.length * 3);
    for (const row of report.rows) {
      const dayIndex = DAYS.indexOf(row.period);
      expect(row.bytes, `${row.period} ${row.gateway}`).to.equal(HOURS.length * trafficBytes(row.gateway as keyof typeof GATEWAYS, dayIndex));
      expect(row.objects).to.equal(HOURS.length);
      expect(row.keyObjects).to.equal(HOURS.length);
    }
    expect(report.total.bytes).to.equal(HOURS.length * (3000 + 1000 + 6000) * (1 + 2 + 3 + 4));
    expect(report.total.objects).to.equal(DAYS.length * HOURS.length * 3);
  });

  it('groups by hour within --from and --to, as CSV', async () => {
    const { stdout } = await cloudtapOk(['usage', '--source', `file://${bucket}`, '--from', '2026-11-21T00:00Z', '--to', '2026-11-22T10:00Z', '--by', 'hour', '--csv', '--quiet']);
    expect(stdout.trim().split('\n')).to.deep.equal([
      'period,objects,bytes,key_objects,key_bytes',
      `2026-11-21T03:00Z,3,${10_000 * 2},3,54`,
      `2026-11-21T15:00Z,3,${10_000 * 2},3,54`,
      `2026-11-22T03:00Z,3,${10_000 * 3},3,54`,
    ]);
  });

  it('prints a table with a total row, and refuses a wrong --by in one line', async () => {
    const { stdout } = await cloudtapOk(['usage', '--source', `file://${bucket}`, '--quiet']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).to.match(/^DAY\s+OBJECTS\s+BYTES\s+KEY OBJECTS$/);
    expect(lines[1]).to.match(/^2026-11-20\s+6\s+20\.0 KB\s+6$/);
    expect(lines.at(-1)).to.match(/^total\s+24\s+200\.0 KB\s+24$/);
    const wrong = await cloudtap(['usage', '--source', `file://${bucket}`, '--by', 'week']);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.equal("cloudtap: usage: --by 'week' is not day, hour or gateway\n");
  });

  it('shows progress on stderr while it lists, unless --quiet', async () => {
    const { stderr } = await cloudtapOk(['usage', '--source', `file://${bucket}`, '--from', '2026-11-20T00:00Z', '--to', '2026-11-23T23:00Z']);
    expect(stderr).to.match(new RegExp(`^listing file://${bucket}: \\d+ objects, hour \\d+ of 96$`, 'm'));
    const quiet = await cloudtapOk(['usage', '--source', `file://${bucket}`, '--quiet']);
    expect(quiet.stderr).to.equal('');
  });

  it('lists and never reads', async () => {
    const counts = new StoreCallCounts();
    const tally = await tallyUsage(countingStore(new LocalFolderStore(bucket), counts), {});
    expect(tally.hours).to.have.length(DAYS.length * HOURS.length * 3);
    expect(tally.otherKeys).to.equal(1);
    const operations = [...counts.calls.values()].map((entry) => entry.call.operation);
    expect(operations).to.include('list');
    expect(operations).to.not.include('read');
  });

  it('writes a self-contained page whose chart, rendered by Chromium, shows each gateway\'s bytes in proportion', async function () {
    if (!existsSync(chromium)) this.skip();
    const page = join(work, 'usage.html');
    await cloudtapOk(['usage', '--source', `file://${bucket}`, '--html', page, '--quiet']);
    const html = readFileSync(page, 'utf8');
    expect(html).to.not.match(/<script|<link|<img|@import|url\(/i);
    expect(html.match(/https?:\/\/[^"\s]*/g)).to.deep.equal(['http://www.w3.org/2000/svg']); // the SVG namespace, never fetched

    const screenshot = join(work, 'usage.png');
    await run(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`, '--hide-scrollbars',
      '--force-device-scale-factor=1', '--window-size=1000,800', `--screenshot=${screenshot}`, `file://${page}`], { timeout: 45_000 });
    if (process.env.USAGE_SCREENSHOT !== undefined) writeFileSync(process.env.USAGE_SCREENSHOT, readFileSync(screenshot));
    const image = decodePng(readFileSync(screenshot));
    expect(image.width).to.equal(1000);

    const series = chartSeries(await tallyUsage(new LocalFolderStore(bucket), {}));
    expect(series.map((s) => s.gateway)).to.deep.equal(['gw-c', 'gw-a', 'gw-b']);
    const pixels = series.map((s) => countColour(image, s.colour));
    // Bars, not just legend swatches: thousands of pixels of each gateway's colour.
    for (const [i, count] of pixels.entries()) expect(count, series[i]!.gateway).to.be.greaterThan(2000);
    // Areas in the proportion of the bytes (6000 : 3000 : 1000), within a few per cent (bar edges, the 12x12 swatches).
    const [c, a, b] = pixels as [number, number, number];
    expect(a / c).to.be.closeTo(0.5, 0.05);
    expect(b / c).to.be.closeTo(1 / 6, 0.03);
    // A colour no gateway has is nowhere.
    expect(countColour(image, GATEWAY_COLOURS[5])).to.equal(0);
  });
});
