/**
 * How many shards and how much CPU and memory per shard a given tapped
 * throughput needs, from what `make bench` measured (docs/operator.md,
 * "Sizing", shows the derivation and the table; a test keeps both equal).
 *
 * A shard is one Node.js process: its data path runs on one thread, so one
 * shard uses about one core, and more throughput means more shards, not
 * bigger ones. A shard both stitches and sends; on one core the two run in
 * series, so its rate is 1 / (1/stitch + 1/send). Each shard is planned at
 * half of that (headroom for TLS decryption, reading from the object store
 * over HTTPS, bursts and garbage collection, none of which the bench runs).
 */
import type { ResourceRequirements, Sizing } from '../api/types.js';
import { defaultThroughputMbps } from '../api/defaults.js';
import { MAX_SHARDS } from '../../contract/limits.js';

/** `make bench`, 200 MB input, median of 3 runs: CTAP to pcap on one core, MB/s of tapped bytes. */
export const measuredStitchMBps = 400;
/** The same bench: the VXLAN sink on one core, packets/s. */
export const measuredVxlanPps = 115_000;
/** Tapped bytes per packet in the bench's flows (1398-byte segments and their ACKs). */
export const measuredBytesPerPacket = 936;
/** The stitcher's peak RSS in the bench, MB. */
export const measuredPeakRssMB = 83;

/** A shard is planned at this fraction of what one core measured. */
export const headroom = 0.5;

/** Stitch and send in series on one core, in Mbit/s of tapped bytes (about 680). */
export const measuredMbpsPerCore = (8 / (1 / measuredStitchMBps + 1e6 / (measuredVxlanPps * measuredBytesPerPacket)));

/** What one core of a shard is planned for: half the measured rate, rounded down to 100. */
export const plannedMbpsPerCore = Math.floor((headroom * measuredMbpsPerCore) / 100) * 100;

export interface SizingRow {
  /** This row applies up to and including this throughput. */
  readonly upToMbps: number;
  readonly shards: number;
  readonly cpu: string;
  readonly memory: string;
}

/**
 * CPU: the share of one core the row's throughput per shard needs at the
 * planned rate, at most one core (a shard cannot use more). Memory: about
 * three times the bench's peak RSS for a full shard (object read-ahead and
 * many more open flows than the bench), half that for a small one.
 */
export const sizingTable: readonly SizingRow[] = [
  { upToMbps: 100, shards: 1, cpu: '500m', memory: '256Mi' },
  { upToMbps: 300, shards: 1, cpu: '1', memory: '512Mi' },
  { upToMbps: 600, shards: 2, cpu: '1', memory: '512Mi' },
  { upToMbps: 1200, shards: 4, cpu: '1', memory: '512Mi' },
  { upToMbps: 3000, shards: 10, cpu: '1', memory: '512Mi' },
];

/** Above the table each shard takes this much throughput, at the last row's size. */
export const mbpsPerShardBeyondTable = plannedMbpsPerCore;
export const maxShards = MAX_SHARDS;

export interface ShardSize {
  readonly shards: number;
  readonly resources: Required<ResourceRequirements>;
}

/** Shards and per-shard resources: the table's, with the user's overrides on top. */
export function sizeFor(sizing: Sizing | undefined): ShardSize {
  const mbps = sizing?.expectedThroughputMbps ?? defaultThroughputMbps;
  const row = rowFor(mbps);
  const tableShards =
    mbps <= row.upToMbps ? row.shards : Math.min(maxShards, Math.ceil(mbps / mbpsPerShardBeyondTable));
  const table = { requests: { cpu: row.cpu, memory: row.memory }, limits: { memory: row.memory } };
  return {
    shards: sizing?.shards ?? tableShards,
    resources: {
      requests: { ...table.requests, ...sizing?.resources?.requests },
      limits: { ...table.limits, ...sizing?.resources?.limits },
    },
  };
}

function rowFor(mbps: number): SizingRow {
  return sizingTable.find((row) => mbps <= row.upToMbps) ?? sizingTable[sizingTable.length - 1]!;
}

/** The share of a shard's memory its stitcher's budget (`maxBuffer`, the CLI's --max-buffer) takes: as the stitcher's own cgroup default. */
export const budgetShareOfMemory = 0.4;

const QUANTITY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

/** Bytes of a memory quantity (`512Mi`, `1G`, `268435456`), or undefined when it is not one. */
export function quantityBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * QUANTITY_UNITS[match[2]!]!);
}

/**
 * The stitcher's memory budget for a shard of this size: a share of its memory
 * limit (or request), in MiB as the CLI reads sizes; undefined when neither is
 * a quantity the operator reads (the stitcher then takes its cgroup default).
 */
export function stitcherBudget(size: ShardSize): string | undefined {
  const memory = size.resources.limits.memory ?? size.resources.requests.memory;
  const bytes = memory === undefined ? undefined : quantityBytes(String(memory));
  if (bytes === undefined) return undefined;
  return `${Math.max(16, Math.floor((bytes * budgetShareOfMemory) / 1024 ** 2))}M`;
}
