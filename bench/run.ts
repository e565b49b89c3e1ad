/**
 * `make bench`: the stitcher against peers and limits on the same bytes, in one
 * run. Every contender runs in a fresh process pinned to one core (taskset -c
 * 0), in rounds A B A B (BENCH_RUNS, default 3); each goal is the median of the
 * rounds' ratios. A goal that is missed comes with a CPU profile summary of the
 * missing side. Then latency (polling, 1 s interval) on three stores, and scale
 * (memory per idle open flow; store calls per poll with many idle gateways).
 *
 * BENCH_BYTES (default 1G) sizes the stitch input; the clear-text input is a
 * quarter of it up to 256M (BENCH_DECRYPT_BYTES), the wire run an eighth up to
 * 64M. BENCH_LATENCY_OBJECTS (300), BENCH_FLOWS (100000) size the others.
 * BENCH_DIR (default the temp folder) keeps the generated inputs between runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32Implementation } from '../stitcher/format/crc32.js';
import { generateTraffic } from '../stitcher/generator/generate.js';
import { DEFAULT_MAX_QUIET_MS } from '../stitcher/store/listing-schedule.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { parseSize } from '../stitcher/cli/usage-error.js';
import { benchCheckpoint, formatCheckpointBench } from './checkpoint.js';
import { benchDecryption, CLEARTEXT_GOAL, type DecryptionBench } from './decrypt.js';
import type { LatencyResult } from './latency-child.js';
import { rounds, verdict } from './pairs.js';
import { benchPeers, STITCH_GOALS } from './peers.js';
import type { MemoryResult, RequestsResult } from './scale-child.js';
import { benchWire, WIRE_GOAL, type WireBench } from './wire.js';

const benchBytes = parseSize(process.env.BENCH_BYTES ?? '1G', 'BENCH_BYTES');
const latencyObjects = Number(process.env.BENCH_LATENCY_OBJECTS ?? 300);
const idleFlows = Number(process.env.BENCH_FLOWS ?? 100_000);
const workDir = join(process.env.BENCH_DIR ?? tmpdir(), `cloudtap-bench-${benchBytes}`);
const bucket = join(workDir, 'bucket');
const LATENCY_GOAL_MS = 2000;
const MEMORY_GOAL_BYTES = 2048;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function row(cells: readonly string[]): void {
  out(`| ${cells.join(' | ')} |`);
}

async function ensureInput(): Promise<void> {
  const done = join(workDir, 'complete');
  if (existsSync(done)) return;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  process.stderr.write(`bench: generating ${(benchBytes / 1e6).toFixed(0)} MB of tapped HTTP/HTTPS traffic into ${bucket}\n`);
  await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 1, totalBytes: benchBytes, seed: 'bench' });
  await writeFile(done, '');
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

function child<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = []): T {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const stdout = execFileSync(process.execPath, [...nodeFlags, path, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

/** Runs a measurement; a tool or permission that is missing prints its row as skipped with the reason. */
async function attempt<T>(what: string, run: () => T | Promise<T>): Promise<T | string> {
  try {
    return await run();
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!;
    process.stderr.write(`bench: ${what} skipped: ${reason}\n`);
    return `skipped: ${reason}`;
  }
}

/** A ratio with three significant digits: 0.899 must not print as the 0.90 a goal asks for. */
const x = (value: number): string => `${value.toPrecision(3)}x`;
const load = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');

await ensureInput();
const objectBytes = folderBytes(bucket);
out(`cloudtap bench: ${(objectBytes / 1e6).toFixed(0)} MB of CTAP objects, node ${process.versions.node}, CRC-32: ${crc32Implementation}`);
out(`one core per contender (taskset -c 0), ${rounds()} rounds A B A B, ratios are medians of the rounds' ratios; load average at start: ${load()}`);

const peers = benchPeers(bucket, workDir);
const decryption = await attempt<DecryptionBench>('clear-text', () => benchDecryption(benchBytes));
const wireBytes = Math.min(64 * 1024 * 1024, Math.max(1024 * 1024, Math.floor(benchBytes / 8)));
const wire = await attempt<WireBench>('wire (veth pair in a network namespace)', () => benchWire(wireBytes, workDir));

out();
row(['measurement', 'result', 'against', 'its result', 'ratio', 'goal']);
row(['---', '---', '---', '---', '---', '---']);
const stitchMBps = `${(objectBytes / 1e6 / peers.stitchSeconds).toFixed(0)} MB/s, ${peers.stitchSeconds.toFixed(2)} s`;
row(['`cloudtap stitch --once` to pcap (wall, whole process)', stitchMBps, `limit: \`cp\` of its ${(peers.pcapBytes / 1e6).toFixed(0)} MB pcap`, `${peers.cpSeconds.toFixed(2)} s`, x(peers.overCp), `<= ${STITCH_GOALS.overCp}x: ${verdict(peers.overCp <= STITCH_GOALS.overCp)}`]);
row(['', '', 'peer: `editcap -F pcap` copying it', `${peers.editcapSeconds.toFixed(2)} s`, x(peers.overEditcap), `<= ${STITCH_GOALS.overEditcap}x: ${verdict(peers.overEditcap <= STITCH_GOALS.overEditcap)}`]);
const alone = (overCp: number, overEditcap: number): string => `alone ${x(overCp)} \`cp\`, ${x(overEditcap)} \`editcap\``;
row(['', '', '`cp` itself against `editcap`', '', x(peers.cpOverEditcap), `${x(STITCH_GOALS.overEditcap / peers.cpOverEditcap)} \`cp\` is what <= ${STITCH_GOALS.overEditcap}x \`editcap\` allows`]);
row(['', '', 'floor: Node reading, CRC-32-checking and writing the objects, nothing else', `${peers.floorSeconds.toFixed(2)} s`, x(peers.overFloor), alone(peers.floorOverCp, peers.floorOverEditcap)]);
row(['', '', 'floor with frames: the same, the bytes written as full-sized TCP frames by the stitcher\'s frame path (no parsing, no flows)', `${peers.framesFloorSeconds.toFixed(2)} s`, x(peers.overFramesFloor), alone(peers.framesFloorOverCp, peers.framesFloorOverEditcap)]);
if (typeof decryption === 'string') {
  row(['clear-text export (variant=cleartext), TLS 1.3 AES-128-GCM', decryption, "limit: Node's raw per-record AES-128-GCM", '', '', `>= ${CLEARTEXT_GOAL}`]);
  row(['', '', '`openssl speed -evp aes-128-gcm -decrypt`', '', '', '']);
  row(['', '', 'bound: the raw loop\'s decryption plus the frames floor', '', '', '']);
} else {
  row(['clear-text export (variant=cleartext), TLS 1.3 AES-128-GCM', `${decryption.cleartextMBps.toFixed(0)} MB/s of ${(decryption.bytes / 1e6).toFixed(0)} MB`, "limit: Node's raw per-record AES-128-GCM, same records", `${decryption.rawAesGcmMBps.toFixed(0)} MB/s`, x(decryption.overRaw), `>= ${CLEARTEXT_GOAL}: ${verdict(decryption.overRaw >= CLEARTEXT_GOAL)}`]);
  row(['', '', `peer: \`openssl speed -evp aes-128-gcm -decrypt\` at ${decryption.recordSizes.join(', ')} B`, `${decryption.opensslMBps.toFixed(0)} MB/s`, x(decryption.overOpenssl), '']);
  row(['', '', 'bound: the raw loop\'s decryption plus the frames floor over the same objects, nothing else', '', x(decryption.boundOverRaw), `the best a Node stitcher could reach against ${CLEARTEXT_GOAL}`]);
}
if (typeof wire === 'string') {
  row(['VXLAN export over a veth pair', wire, 'limit: bare `dgram` loop, same datagrams', '', '', `>= ${WIRE_GOAL}`]);
  row(['', '', 'peer: `tcpreplay --topspeed`, same frames', '', '', '']);
} else {
  row(['VXLAN export over a veth pair', `${(wire.sinkPps / 1e3).toFixed(0)} kpps (${wire.packets} packets, ${wire.sinkLost} lost)`, 'limit: bare `dgram` loop, same datagrams', `${(wire.dgramPps / 1e3).toFixed(0)} kpps`, x(wire.overDgram), `>= ${WIRE_GOAL}: ${verdict(wire.overDgram >= WIRE_GOAL)}`]);
  row(['', '', 'peer: `tcpreplay --topspeed`, same frames', `${(wire.tcpreplayPps / 1e3).toFixed(0)} kpps`, x(wire.overTcpreplay), '']);
}

out();
out(`latency, polling every 1 s, ${latencyObjects} objects each holding one flow closed within it (default reorder window 30 s): from the upload resolving to the flow's first packet leaving`);
row(['store', 'p50', 'p99', 'max', 'never seen', `goal p99 <= ${LATENCY_GOAL_MS / 1000} s`]);
row(['---', '---', '---', '---', '---', '---']);
for (const [store, label] of [['file', 'local folder'], ['azure', 'Azurite (Azure Blob)'], ['s3', 'versitygw (S3, SigV4)']] as const) {
  const result = await attempt<LatencyResult>(`latency on ${label}`, () => child<LatencyResult>('./latency-child.js', [store, String(latencyObjects), '20']));
  if (typeof result === 'string') row([label, result, '', '', '', '']);
  else row([label, `${result.p50Ms.toFixed(0)} ms`, `${result.p99Ms.toFixed(0)} ms`, `${result.maxMs.toFixed(0)} ms`, String(result.missing), verdict(result.missing === 0 && result.p99Ms <= LATENCY_GOAL_MS)]);
}

out();
out('scale');
row(['measurement', 'result', 'goal']);
row(['---', '---', '---']);
const base = child<MemoryResult>('./scale-child.js', ['memory', '0', 'open'], ['--expose-gc']);
const idle = child<MemoryResult>('./scale-child.js', ['memory', String(idleFlows), 'open'], ['--expose-gc']);
const perFlow = (idle.bytes - base.bytes) / idleFlows;
row([`memory per idle open flow at ${idle.openFlows} open flows (heap + external after GC, over a run with none; ${idle.heldBytes} B still held)`, `${perFlow.toFixed(0)} B`, `<= ${MEMORY_GOAL_BYTES} B: ${verdict(idle.openFlows === idleFlows && perFlow <= MEMORY_GOAL_BYTES)}`]);
const many = child<RequestsResult>('./scale-child.js', ['requests', '1000', '10']);
const few = child<RequestsResult>('./scale-child.js', ['requests', '100', '10']);
const perPoll = (r: RequestsResult): string => `${(r.listsPerPoll + r.readsPerPoll).toFixed(0)} (${r.listsPerPoll.toFixed(0)} lists, ${r.readsPerPoll.toFixed(0)} reads, over ${r.polls} polls)`;
const growth = (many.listsPerPoll + many.readsPerPoll) / (few.listsPerPoll + few.readsPerPoll);
// Lists per poll: each active gateway's folder per feed, the hour sweeps once per cap; bounded by 3 x active + 2.
const listBound = 3 * many.active + 2;
row([`store calls per poll, 1,000 gateways of which 10 active (poll 300 ms, look-back 3 h; after three caps of ${DEFAULT_MAX_QUIET_MS / 1000} s to settle)`, perPoll(many),
  `proportional to the active ones: ${verdict(growth <= 1.2 && many.listsPerPoll <= listBound)} (${x(growth)} the calls of 100 gateways with the same 10 active; lists <= ${listBound})`]);
row(['store calls per poll, 100 gateways of which 10 active', perPoll(few), '']);

for (const profile of [peers.profile, typeof decryption === 'string' ? undefined : decryption.profile, typeof wire === 'string' ? undefined : wire.profile]) {
  if (profile !== undefined) out(`\n${profile}`);
}

if (process.env.BENCH_CHECKPOINTS !== '0') {
  const checkpointing = await benchCheckpoint({ bucket, workDir, runs: rounds() });
  out(`\n${formatCheckpointBench(checkpointing)}`);
}
out(`load average at end: ${load()}`);
