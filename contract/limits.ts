/**
 * Shard counts both sides must agree on. Ordered MAX_SHARDS <= MAX_CHECKPOINT_SHARDS
 * <= MAX_SHARD_COUNT (test/contract/limits.test.ts checks it, and the CRD's maximum).
 */

/** Most shards the operator runs for one CloudTap: the CRD's `spec.sizing.shards` maximum. */
export const MAX_SHARDS = 64;

/**
 * Most checkpoint ConfigMaps a stitcher reads when it re-shards: above MAX_SHARDS so
 * that the checkpoints of a CloudTap scaled down from any count it could have had are found.
 */
export const MAX_CHECKPOINT_SHARDS = 256;

/** Most shards `cloudtap stitch --shard-count` takes outside the operator (file checkpoints). */
export const MAX_SHARD_COUNT = 1024;
