/**
 * Which shard owns a gateway. The gateway is the unit of sharding (all records
 * of a flow live under one gateway), and the hash is stable and easy to
 * recompute anywhere: CRC-32/ISO-HDLC (zlib's crc32) of the gateway name's
 * UTF-8 bytes, as an unsigned 32-bit number, modulo the shard count.
 *
 *     shard(gateway) = crc32(utf8(gateway)) mod N
 *
 * e.g. crc32("gw-a1") = 0x06754b0a, so with 3 shards gw-a1 is shard 1; the
 * same in Python: `zlib.crc32(b"gw-a1") % 3`.
 */
import { crc32 } from 'node:zlib';

export interface ShardSpec {
  /** 0 <= index < count. */
  readonly index: number;
  /** @default 1 (one stitcher owns every gateway) */
  readonly count: number;
}

export const SINGLE_SHARD: ShardSpec = { index: 0, count: 1 };

/** The shard (0 .. count - 1) that owns `gateway`. @throws RangeError when count is not a positive whole number */
export function shardOfGateway(gateway: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count ${count} is not a whole number of at least 1`);
  return crc32(Buffer.from(gateway, 'utf8')) % count;
}

/** Whether the shard owns the gateway. */
export function ownsGateway(shard: ShardSpec, gateway: string): boolean {
  return shard.count <= 1 || shardOfGateway(gateway, shard.count) === shard.index;
}

/** @throws RangeError naming the bad field */
export function checkShard(shard: ShardSpec): ShardSpec {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw new RangeError(`shard count ${shard.count} is not a whole number of at least 1`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard index ${shard.index} is not from 0 to ${shard.count - 1}`);
  }
  return shard;
}
