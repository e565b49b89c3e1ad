/**
 * The cost of checkpointing: stitching throughput (MB/s of tapped bytes) of a
 * folder of CTAP objects to pcap without checkpoints, with file checkpoints
 * at the default interval (10 s), and with a checkpoint after nearly every
 * object (an interval of 1 ms: the worst case). Alternating runs, medians.
 *
 * For bench/run.ts:
 *
 *     import { benchCheckpoint, formatCheckpointBench } from './checkpoint.js';
 *     process.stdout.write(formatCheckpointBench(await benchCheckpoint({ bucket, workDir })));
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openFileOutput } from '../stitcher/export/file-output.js';
import { silentLogger } from '../stitcher/observe/log.js';
import { FileCheckpointStore } from '../stitcher/checkpoint/checkpoint-store.js';
import { stitch } from '../stitcher/run/stitch.js';
import { LocalFolderStore } from '../stitcher/store/local.js';

export interface CheckpointBenchOptions {
  /** A folder of CTAP objects (bench/run.ts generates one). */
  readonly bucket: string;
  /** Where outputs and checkpoints go (emptied per run). */
  readonly workDir: string;
  /** @default 3 */
  readonly runs?: number;
}

export interface CheckpointMeasurement {
  readonly label: string;
  /** Median MB/s of tapped bytes. */
  readonly mbps: number;
  readonly seconds: number;
  /** Checkpoints written in the median run. */
  readonly checkpoints: number;
}

export interface CheckpointBenchResult {
  readonly bytes: number;
  readonly measurements: readonly CheckpointMeasurement[];
}

const MODES = [
  { label: 'no checkpoints', intervalMs: undefined },
  { label: 'file checkpoints every 10 s', intervalMs: 10_000 },
  { label: 'file checkpoint after every object', intervalMs: 1 },
] as const;

export async function benchCheckpoint(options: CheckpointBenchOptions): Promise<CheckpointBenchResult> {
  const runs = Math.max(1, options.runs ?? 3);
  const samples = MODES.map(() => [] as { seconds: number; bytes: number; checkpoints: number }[]);
  for (let run = 0; run < runs; run++) {
    for (const [i, mode] of MODES.entries()) samples[i]!.push(await measure(options, mode.intervalMs));
  }
  const measurements = MODES.map((mode, i) => {
    const sorted = [...samples[i]!].sort((a, b) => a.seconds - b.seconds);
    const median = sorted[sorted.length >> 1]!;
    return { label: mode.label, mbps: median.bytes / 1e6 / median.seconds, seconds: median.seconds, checkpoints: median.checkpoints };
  });
  return { bytes: samples[0]![0]!.bytes, measurements };
}

async function measure(options: CheckpointBenchOptions, intervalMs: number | undefined): Promise<{ seconds: number; bytes: number; checkpoints: number }> {
  const dir = join(options.workDir, 'checkpoint-bench');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const output = join(dir, 'out.pcap');
  const sink = await openFileOutput(`pcap://${output}`);
  const logger = silentLogger();
  const started = process.hrtime.bigint();
  const stats = await stitch({
    source: new LocalFolderStore(options.bucket),
    outputs: [{ sink, options: { url: output, variant: 'original', remap: [] } }],
    once: true, logger,
    ...(intervalMs === undefined ? {} : { checkpoint: { store: new FileCheckpointStore(join(dir, 'checkpoints'), 0), intervalMs, logger } }),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(dir, { recursive: true, force: true });
  return { seconds, bytes: stats.flows.exported, checkpoints: stats.shard.checkpoint?.written ?? 0 };
}

export function formatCheckpointBench(result: CheckpointBenchResult): string {
  const base = result.measurements[0]!.mbps;
  const lines = [
    `cloudtap bench: cost of checkpointing, ${(result.bytes / 1e6).toFixed(0)} MB tapped`,
    '| measurement | MB/s | seconds | checkpoints | vs none |',
    ...result.measurements.map((m) => `| ${m.label} | ${m.mbps.toFixed(0)} | ${m.seconds.toFixed(2)} | ${m.checkpoints} | ${(m.mbps / base).toFixed(2)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
