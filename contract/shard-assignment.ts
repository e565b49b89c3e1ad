/**
 * Which shard owns a gateway: linear hashing over CRC-32, shared by the
 * operator (which tells each shard its index and modulus) and the stitcher
 * (which keeps the gateways it owns). The gateway is the unit of sharding (all
 * records of a flow live under one gateway); h = CRC-32/ISO-HDLC (zlib's
 * crc32) of its UTF-8 name, an unsigned 32-bit number.
 *
 * With N shards and L the largest power of two <= N, shard i owns
 *
 *     h mod m(i) == i,   m(i) = 2L when i < N - L or i >= L, else L
 *
 * so each shard's ownership depends only on its own modulus m(i). Growing N
 * to N + 1 splits one shard (N - L) into itself and the new shard N: only
 * that shard's modulus (and so its Deployment) changes; shrinking merges them
 * back. With a power of two every shard has the same modulus and a share of
 * 1/N; in between, the shards not yet split carry twice the share of the
 * others (docs/shards.md). e.g. crc32("gw-a1") = 0x06754b0a: with 3 shards
 * shard 2 owns it (0x06754b0a mod 4 == 2).
 */
import { crc32 } from 'node:zlib';

/** A shard's own part of the assignment: it owns the gateways whose hash mod `modulus` is `index`. */
export interface ShardAssignment {
  readonly index: number;
  /** A power of two greater than index. */
  readonly modulus: number;
}

/** The hash every side computes for a gateway. */
export function gatewayHash(gateway: string): number {
  return crc32(Buffer.from(gateway, 'utf8'));
}

/** The largest power of two <= count. */
function level(count: number): number {
  return 2 ** Math.floor(Math.log2(count));
}

/** @throws RangeError when count is not a positive whole number or index is not from 0 to count - 1 */
export function assignmentOf(index: number, count: number): ShardAssignment {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count ${count} is not a whole number of at least 1`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`shard index ${index} is not from 0 to ${count - 1}`);
  const low = level(count);
  const split = index < count - low || index >= low;
  return { index, modulus: split ? 2 * low : low };
}

/** The shard (0 .. count - 1) that owns `gateway` among `count` shards. */
export function shardOfGateway(gateway: string, count: number): number {
  assignmentOf(0, count); // checks the count
  const low = level(count);
  const hash = gatewayHash(gateway);
  const wide = hash % (2 * low);
  return wide < count ? wide : hash % low;
}

/** Whether the shard with this assignment owns the gateway. */
export function ownsGateway(assignment: ShardAssignment, gateway: string): boolean {
  return gatewayHash(gateway) % assignment.modulus === assignment.index;
}

/** @throws RangeError naming the bad value: a modulus must be a power of two above the index */
export function checkAssignment(assignment: ShardAssignment): ShardAssignment {
  const { index, modulus } = assignment;
  if (!Number.isInteger(modulus) || modulus < 1 || level(modulus) !== modulus) throw new RangeError(`shard modulus ${modulus} is not a power of two`);
  if (!Number.isInteger(index) || index < 0 || index >= modulus) throw new RangeError(`shard index ${index} is not from 0 to ${modulus - 1}`);
  return assignment;
}
