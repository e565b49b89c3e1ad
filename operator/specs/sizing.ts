/**
 * How many shards and how much CPU and memory per shard a given tapped
 * throughput needs. The numbers below are placeholders chosen from a rough
 * per-core stitching rate (about 400 Mbit/s per core with TLS decryption);
 * the lead replaces them with `make bench` results. docs/operator.md shows the table.
 */
import type { ResourceRequirements, Sizing } from '../api/types.js';
import { defaultThroughputMbps } from '../api/defaults.js';

export interface SizingRow {
  /** This row applies up to and including this throughput. */
  readonly upToMbps: number;
  readonly shards: number;
  readonly cpu: string;
  readonly memory: string;
}

export const sizingTable: readonly SizingRow[] = [
  { upToMbps: 100, shards: 1, cpu: '250m', memory: '256Mi' },
  { upToMbps: 300, shards: 1, cpu: '1', memory: '512Mi' },
  { upToMbps: 1000, shards: 2, cpu: '1500m', memory: '1Gi' },
  { upToMbps: 3000, shards: 4, cpu: '2', memory: '2Gi' },
  { upToMbps: 10000, shards: 12, cpu: '2', memory: '2Gi' },
];

/** Above the table each shard takes this much throughput, at the last row's size. */
export const mbpsPerShardBeyondTable = 800;
export const maxShards = 64;

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
