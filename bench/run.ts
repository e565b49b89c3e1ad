/**
 * `make bench`: stitching throughput of CTAP to pcap on one core, in MB/s of
 * tapped bytes, against writing the same bytes straight to a file in the same
 * run, and the stitcher's peak RSS. BENCH_BYTES sets the input size (default 1G).
 * BENCH_RUNS (default 3) rounds of measurements, copy, stitch, then the floor
 * (the copy plus CRC-32 checks, at pcap size), each in a fresh process: the
 * table shows the medians, each ratio is the median of the rounds' ratios, so
 * that a neighbour's burst on a shared machine does not decide it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTraffic } from '../stitcher/generator/generate.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { parseSize } from '../stitcher/cli/usage-error.js';
import type { ChildResult } from './stitch-child.js';
import { benchDecryption } from './decrypt.js';
import { benchCheckpoint, formatCheckpointBench } from './checkpoint.js';

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

/** Runs a measurement pinned to one core, in its own process; with the size of the file it wrote. */
function measure(mode: 'stitch' | 'copy' | 'floor', pcapBytes = 0): ChildResult & { outputBytes: number } {
  const output = join(workDir, `out-${mode}`);
  const args = ['-c', '0', process.execPath, child, mode, bucket, output, String(pcapBytes)];
  const stdout = execFileSync('taskset', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const outputBytes = statSync(output).size;
  rmSync(output, { force: true });
  return { ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult), outputBytes };
}

function mbps(result: ChildResult): number {
  return result.bytes / 1e6 / result.seconds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median run (by seconds), with the highest peak RSS of all runs. */
function summary(results: readonly ChildResult[]): ChildResult {
  const seconds = median(results.map((r) => r.seconds));
  const closest = results.reduce((a, b) => (Math.abs(b.seconds - seconds) < Math.abs(a.seconds - seconds) ? b : a));
  return { ...closest, seconds, maxRssBytes: Math.max(...results.map((r) => r.maxRssBytes)), cpuSeconds: median(results.map((r) => r.cpuSeconds)) };
}

await ensureInput();
measure('copy'); // warm the page cache so both measurements read from memory
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const copies: ChildResult[] = [];
const stitches: ChildResult[] = [];
const floors: ChildResult[] = [];
for (let i = 0; i < runs; i++) {
  copies.push(measure('copy'));
  const stitch = measure('stitch');
  stitches.push(stitch);
  floors.push(measure('floor', stitch.outputBytes));
}
const copy = summary(copies);
const stitched = summary(stitches);
const floor = summary(floors);
const ratio = median(stitches.map((s, i) => mbps(s) / mbps(copies[i]!)));
const floorRatio = median(floors.map((f, i) => mbps(f) / mbps(copies[i]!)));
const rows = [
  ['measurement', 'MB/s', 'seconds', 'CPU seconds', 'peak RSS'],
  ['stitch CTAP -> pcap (tapped bytes)', mbps(stitched).toFixed(0), stitched.seconds.toFixed(2), stitched.cpuSeconds.toFixed(2), `${(stitched.maxRssBytes / 1e6).toFixed(0)} MB`],
  ['write the same bytes to a file', mbps(copy).toFixed(0), copy.seconds.toFixed(2), copy.cpuSeconds.toFixed(2), `${(copy.maxRssBytes / 1e6).toFixed(0)} MB`],
  ['floor: the write + CRC-32 of every byte, file at pcap size', mbps(floor).toFixed(0), floor.seconds.toFixed(2), floor.cpuSeconds.toFixed(2), `${(floor.maxRssBytes / 1e6).toFixed(0)} MB`],
];
process.stdout.write(`cloudtap bench: ${(stitched.bytes / 1e6).toFixed(0)} MB tapped, ${stitched.packets} packets, one core (taskset -c 0), node ${process.versions.node}, median of ${runs} runs\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
process.stdout.write(`ratio stitch/write: ${ratio.toFixed(2)} (goal >= 0.5); peak RSS ${(stitched.maxRssBytes / 1e6).toFixed(0)} MB (goal < 300 MB)\n`);
process.stdout.write(`ratio floor/write: ${floorRatio.toFixed(2)} (the most any stitcher that checks the CRCs could reach here)\n`);

/** Runs one of the other measurement scripts pinned to one core and parses its JSON line. */
function pinned<T>(script: string): T {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const stdout = execFileSync('taskset', ['-c', '0', process.execPath, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

const wire = pinned<{ packets: number; stitcherPps: number; rawDgramPps: number; ratio: number }>('./wire-child.js');
process.stdout.write(`\nwire export, ${wire.packets} packets to a loopback UDP sink, one core:\n`);
process.stdout.write(`| measurement | packets/s |\n| VXLAN sink | ${wire.stitcherPps.toFixed(0)} |\n| bare dgram send loop, same packets | ${wire.rawDgramPps.toFixed(0)} |\n`);
process.stdout.write(`ratio VXLAN/dgram: ${wire.ratio.toFixed(2)} (goal >= 0.7)\n`);

const decryption = await benchDecryption();
process.stdout.write(`\nTLS clear-text export (TLS 1.3 AES-128-GCM), one core:\n`);
process.stdout.write(`| measurement | MB/s |\n| stitch with variant=cleartext (tapped bytes) | ${decryption.cleartextMBps.toFixed(0)} |\n| Node's raw AES-128-GCM decryption, same records | ${decryption.rawAesGcmMBps.toFixed(0)} |\n`);
process.stdout.write(`ratio clear-text/raw AES-GCM: ${decryption.ratio.toFixed(2)} (goal >= 0.4)\n`);

const checkpointing = await benchCheckpoint({ bucket, workDir });
process.stdout.write(`\n${formatCheckpointBench(checkpointing)}\n`);
