/**
 * `make bench`: stitching throughput of CTAP to pcap on one core, in MB/s of
 * tapped bytes, against writing the same bytes straight to a file in the same
 * run, and the stitcher's peak RSS. BENCH_BYTES sets the input size (default 1G).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTraffic } from '../stitcher/generator/generate.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { parseSize } from '../stitcher/cli/usage-error.js';
import type { ChildResult } from './stitch-child.js';

const benchBytes = parseSize(process.env.BENCH_BYTES ?? '1G', 'BENCH_BYTES');
const workDir = join(process.env.BENCH_DIR ?? tmpdir(), `cloudtap-bench-${benchBytes}`);
const bucket = join(workDir, 'bucket');
const child = fileURLToPath(new URL('./stitch-child.js', import.meta.url));

async function ensureInput(): Promise<void> {
  const done = join(workDir, 'complete');
  if (existsSync(done)) return;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  process.stderr.write(`bench: generating ${(benchBytes / 1e6).toFixed(0)} MB of tapped HTTP/HTTPS traffic into ${bucket}\n`);
  await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 1, totalBytes: benchBytes, seed: 'bench' });
  await writeFile(done, '');
}

/** Runs a measurement pinned to one core, in its own process. */
function measure(mode: 'stitch' | 'copy'): ChildResult {
  const output = join(workDir, `out-${mode}`);
  const args = ['-c', '0', process.execPath, child, mode, bucket, output];
  const stdout = execFileSync('taskset', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  execFileSync('rm', ['-f', output]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

function mbps(result: ChildResult): number {
  return result.bytes / 1e6 / result.seconds;
}

await ensureInput();
measure('copy'); // warm the page cache so both measurements read from memory
const copy = measure('copy');
const stitched = measure('stitch');
const ratio = mbps(stitched) / mbps(copy);
const rows = [
  ['measurement', 'MB/s', 'seconds', 'peak RSS'],
  ['stitch CTAP -> pcap (tapped bytes)', mbps(stitched).toFixed(0), stitched.seconds.toFixed(2), `${(stitched.maxRssBytes / 1e6).toFixed(0)} MB`],
  ['write the same bytes to a file', mbps(copy).toFixed(0), copy.seconds.toFixed(2), `${(copy.maxRssBytes / 1e6).toFixed(0)} MB`],
];
process.stdout.write(`cloudtap bench: ${(stitched.bytes / 1e6).toFixed(0)} MB tapped, ${stitched.packets} packets, one core (taskset -c 0), node ${process.versions.node}\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
process.stdout.write(`ratio stitch/write: ${ratio.toFixed(2)} (goal >= 0.5); peak RSS ${(stitched.maxRssBytes / 1e6).toFixed(0)} MB (goal < 300 MB)\n`);
