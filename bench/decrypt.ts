/**
 * The decryption benchmark: clear-text export throughput on one core (TLS 1.3
 * AES-128-GCM bulk downloads, generated once, stitched with variant=cleartext to
 * a pcap), in MB/s of tapped bytes, against Node's raw AES-128-GCM decryption of
 * records of the same sizes in the same run; goal: ratio >= 0.4.
 * BENCH_DECRYPT_BYTES sets the input size (default 256M); BENCH_RUNS (default 3)
 * pairs, each measurement in a fresh process pinned with taskset; the ratio is
 * the median of the pairs' ratios.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSize } from '../stitcher/cli/usage-error.js';
import { generateTraffic } from '../stitcher/generator/generate.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import type { DecryptChildResult } from './decrypt-child.js';

export interface DecryptionBench {
  /** Clear-text export, MB/s (10^6) of tapped bytes. */
  readonly cleartextMBps: number;
  /** Node's AES-128-GCM alone on records of the same sizes, MB/s of record bytes. */
  readonly rawAesGcmMBps: number;
  /** cleartextMBps / rawAesGcmMBps (median of the pairs). */
  readonly ratio: number;
}

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
    flows: 1, totalBytes: bytes, bulkBodyBytes: 16 * 1024 * 1024, bulkCipher: 'TLS_AES_128_GCM_SHA256', seed: 'bench-decrypt',
  });
  await writeFile(done, '');
}

function measure(workDir: string, mode: 'cleartext' | 'raw'): DecryptChildResult {
  const output = join(workDir, `out-${mode}.pcap`);
  const args = ['-c', '0', process.execPath, child, mode, join(workDir, 'bucket'), join(workDir, 'keys'), output];
  const stdout = execFileSync('taskset', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  execFileSync('rm', ['-f', output]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DecryptChildResult;
}

function mbps(result: DecryptChildResult): number {
  return result.bytes / 1e6 / result.seconds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs the measurement pairs (raw, then clear text) and returns the medians.
 * @throws when the clear-text run decrypted no flow (the benchmark would measure nothing)
 */
export async function benchDecryption(): Promise<DecryptionBench> {
  const bytes = parseSize(process.env.BENCH_DECRYPT_BYTES ?? '256M', 'BENCH_DECRYPT_BYTES');
  const workDir = join(process.env.BENCH_DIR ?? tmpdir(), `cloudtap-bench-decrypt-${bytes}`);
  await ensureInput(workDir, bytes);
  measure(workDir, 'raw'); // warms the page cache
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  const raw: DecryptChildResult[] = [];
  const clear: DecryptChildResult[] = [];
  for (let i = 0; i < runs; i++) {
    raw.push(measure(workDir, 'raw'));
    clear.push(measure(workDir, 'cleartext'));
  }
  if (clear.some((result) => result.count === 0)) throw new Error(`bench: the clear-text run over ${workDir} decrypted no TLS flow`);
  return {
    cleartextMBps: median(clear.map(mbps)),
    rawAesGcmMBps: median(raw.map(mbps)),
    ratio: median(clear.map((c, i) => mbps(c) / mbps(raw[i]!))),
  };
}

// Run on its own (`node dist/bench/decrypt.js`): print the table.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await benchDecryption();
  process.stdout.write(`decryption, TLS 1.3 AES-128-GCM, one core (taskset -c 0), node ${process.versions.node}:\n`);
  process.stdout.write(`| measurement | MB/s |\n| clear-text export (tapped bytes) | ${result.cleartextMBps.toFixed(0)} |\n`);
  process.stdout.write(`| raw AES-128-GCM, same record sizes | ${result.rawAesGcmMBps.toFixed(0)} |\n`);
  process.stdout.write(`ratio clear-text/raw: ${result.ratio.toFixed(2)} (goal >= 0.4)\n`);
}
