/**
 * Which shard owns a gateway: linear hashing over crc32 of the gateway name,
 * defined once in contract/shard-assignment.ts for the operator and the
 * stitcher (docs/shards.md). A shard of `count` owns what linear hashing at
 * that count gives it; a shard the operator started is told its modulus (a
 * power of two) as its count, and owns the same gateways as shard `index` of
 * `modulus` shards does.
 */
import { assignmentOf, ownsGateway as assignmentOwns, shardOfGateway } from '../../contract/shard-assignment.js';

export { shardOfGateway };

export interface ShardSpec {
  /** 0 <= index < count. */
  readonly index: number;
  /** @default 1 (one stitcher owns every gateway) */
  readonly count: number;
}

export const SINGLE_SHARD: ShardSpec = { index: 0, count: 1 };

/** Whether the shard owns the gateway. */
export function ownsGateway(shard: ShardSpec, gateway: string): boolean {
  return shard.count <= 1 || assignmentOwns(assignmentOf(shard.index, shard.count), gateway);
}

/** @throws RangeError naming the bad field */
export function checkShard(shard: ShardSpec): ShardSpec {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw new RangeError(`shard count ${shard.count} is not a whole number of at least 1`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard index ${shard.index} is not from 0 to ${shard.count - 1}`);
  }
  return shard;
}
