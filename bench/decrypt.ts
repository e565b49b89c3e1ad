/**
 * The decryption benchmark: clear-text export throughput on one core (TLS 1.3
 * AES-128-GCM bulk downloads, generated once, stitched with variant=cleartext to
 * a pcap), in MB/s of tapped bytes, against Node's raw AES-128-GCM decryption of
 * records of the same sizes (one decipher per record, as TLS needs) and against
 * `openssl speed -evp aes-128-gcm -decrypt` at those record sizes, in the same
 * run; goal: clear-text >= 0.7 of Node's raw decryption.
 * BENCH_DECRYPT_BYTES sets the input size (default a quarter of BENCH_BYTES, at
 * most 256M); rounds raw, clear text, openssl, each in a fresh process pinned
 * with taskset; each ratio is the median of the rounds' ratios. Each round also
 * runs the frames floor (floor-child.ts) over the same objects: decryption as
 * fast as the raw loop plus that floor is the best any Node stitcher could do,
 * and the bench prints the ratio it would reach.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSize } from '../stitcher/cli/usage-error.js';
import { generateTraffic } from '../stitcher/generator/generate.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import type { DecryptChildResult } from './decrypt-child.js';
import { runFloor } from './floors.js';
import { cloudtapNodeFlags, median, pinnedRun, rounds } from './pairs.js';
import { formatProfile, summariseProfileDir } from './profile-summary.js';

export interface DecryptionBench {
  readonly bytes: number;
  /** Clear-text export, MB/s (10^6) of tapped bytes. */
  readonly cleartextMBps: number;
  /** Node's AES-128-GCM alone on records of the same sizes, MB/s of record bytes. */
  readonly rawAesGcmMBps: number;
  /** `openssl speed` at the same record sizes, weighted by the bytes each size carries. */
  readonly opensslMBps: number;
  /** The record sizes openssl was run at (those carrying most bytes). */
  readonly recordSizes: readonly number[];
  /** Medians of the rounds' ratios. */
  readonly overRaw: number;
  readonly overOpenssl: number;
  /** The best `overRaw` a stitcher could reach: the raw loop's decryption plus the frames floor, nothing else (median of rounds). */
  readonly boundOverRaw: number;
  readonly profile?: string;
}

export const CLEARTEXT_GOAL = 0.7;

const child = fileURLToPath(new URL('./decrypt-child.js', import.meta.url));
/** TLS 1.3 AES-128-GCM downloads with their keys, generated once per size. */
async function ensureInput(workDir: string, bytes: number): Promise<void> {
  const done = join(workDir, 'complete');
  if (existsSync(done)) return;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  process.stderr.write(`bench: generating ${(bytes / 1e6).toFixed(0)} MB of TLS 1.3 AES-128-GCM traffic into ${workDir}\n`);
  await generateTraffic({
    traffic: new LocalFolderStore(join(workDir, 'bucket')), keys: new LocalFolderStore(join(workDir, 'keys')),
    flows: 1, totalBytes: bytes, bulkBodyBytes: Math.min(16 * 1024 * 1024, Math.max(1 << 20, bytes >> 2)), bulkCipher: 'TLS_AES_128_GCM_SHA256', seed: 'bench-decrypt',
  });
  await writeFile(done, '');
}

function measure(workDir: string, mode: 'cleartext' | 'raw', nodeFlags: readonly string[] = []): DecryptChildResult {
  const output = join(workDir, `out-${mode}.pcap`);
  // the clear-text run is the stitcher: node as bin/cloudtap runs it (the raw loop gets the same flags, fair to both)
  const flags = [...cloudtapNodeFlags(['stitch']), ...nodeFlags];
  const stdout = pinnedRun(process.execPath, [...flags, child, mode, join(workDir, 'bucket'), join(workDir, 'keys'), output]).stdout;
  rmSync(output, { force: true });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DecryptChildResult;
}

function mbps(result: DecryptChildResult): number {
  return result.bytes / 1e6 / result.seconds;
}

/** openssl's own decryption loop, one second per size, MB/s weighted by the bytes each size carries. */
function opensslSpeed(sizes: readonly { size: number; bytes: number }[]): number {
  let bytes = 0;
  let seconds = 0;
  for (const { size, bytes: share } of sizes) {
    const stdout = pinnedRun('openssl', ['speed', '-evp', 'aes-128-gcm', '-decrypt', '-bytes', String(size), '-seconds', '1', '-mr']).stdout;
    // -mr prints "+F:<n>:AES-128-GCM:<bytes per second>" for the one size asked.
    const line = stdout.split('\n').find((text) => text.startsWith('+F:'));
    const bytesPerSecond = Number(line?.split(':').at(-1));
    if (!(bytesPerSecond > 0)) throw new Error(`bench: openssl speed printed no +F line for ${size} bytes: ${stdout.slice(0, 200)}`);
    bytes += share;
    seconds += share / bytesPerSecond;
  }
  return bytes / 1e6 / seconds;
}

/**
 * Runs the measurement rounds and returns the medians.
 * @throws when the clear-text run decrypted no flow (the benchmark would measure nothing)
 */
export async function benchDecryption(benchBytes: number): Promise<DecryptionBench> {
  const fallback = Math.min(256 * 1024 * 1024, Math.max(4 * 1024 * 1024, Math.floor(benchBytes / 4)));
  const bytes = process.env.BENCH_DECRYPT_BYTES === undefined ? fallback : parseSize(process.env.BENCH_DECRYPT_BYTES, 'BENCH_DECRYPT_BYTES');
  const workDir = join(process.env.BENCH_DIR ?? tmpdir(), `cloudtap-bench-decrypt-${bytes}`);
  await ensureInput(workDir, bytes);
  const warm = measure(workDir, 'raw'); // warms the page cache
  // The sizes carrying 95% of the bytes, at most four (openssl speed takes a second each).
  const all = warm.recordSizes ?? [];
  const total = all.reduce((sum, entry) => sum + entry.bytes, 0);
  const sizes: { size: number; bytes: number }[] = [];
  for (const entry of all) {
    if (sizes.length >= 4 || sizes.reduce((sum, e) => sum + e.bytes, 0) >= 0.95 * total) break;
    sizes.push(entry);
  }
  if (sizes.length === 0) throw new Error(`bench: no TLS application-data record in ${workDir}`);
  const raw: DecryptChildResult[] = [];
  const clear: DecryptChildResult[] = [];
  const openssl: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < rounds(); i++) {
    raw.push(measure(workDir, 'raw'));
    clear.push(measure(workDir, 'cleartext'));
    openssl.push(opensslSpeed(sizes));
    // the floor's own seconds: the clear-text run is timed in-process too, start-up left out
    floor.push(runFloor('frames', join(workDir, 'bucket'), join(workDir, 'out-floor.pcap')).result.seconds);
  }
  if (clear.some((result) => result.count === 0)) throw new Error(`bench: the clear-text run over ${workDir} decrypted no TLS flow`);
  const overRaw = median(clear.map((c, i) => mbps(c) / mbps(raw[i]!)));
  let profile: string | undefined;
  if (overRaw < CLEARTEXT_GOAL) {
    const dir = mkdtempSync(join(workDir, 'profile-'));
    measure(workDir, 'cleartext', ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    profile = formatProfile('clear-text export (variant=cleartext) -> pcap', summariseProfileDir(dir));
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    bytes: clear[0]!.bytes,
    cleartextMBps: median(clear.map(mbps)),
    rawAesGcmMBps: median(raw.map(mbps)),
    opensslMBps: median(openssl),
    recordSizes: sizes.map((entry) => entry.size),
    overRaw,
    overOpenssl: median(clear.map((c, i) => mbps(c) / openssl[i]!)),
    boundOverRaw: median(clear.map((c, i) => mbps({ ...c, seconds: raw[i]!.seconds + floor[i]! }) / mbps(raw[i]!))),
    ...(profile === undefined ? {} : { profile }),
  };
}
