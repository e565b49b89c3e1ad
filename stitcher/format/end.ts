/** The end of an object: "END1", block_count, record_count, first_ns, last_ns, end_crc. */
import { crc32 } from './crc32.js';
import { checkU64, checkUnsigned } from './integers.js';
import { END_BYTES, END_MAGIC } from './layout.js';
import { failure, hex32, success, type Outcome } from './outcome.js';
import type { ObjectTrailer } from './records.js';

/** @throws RangeError naming the field that does not fit. */
export function encodeEnd(trailer: ObjectTrailer): Buffer {
  checkUnsigned(trailer.blockCount, 32, 'block_count');
  checkU64(trailer.recordCount, 'record_count');
  checkU64(trailer.firstNs, 'first_ns');
  checkU64(trailer.lastNs, 'last_ns');
  const bytes = Buffer.alloc(END_BYTES);
  END_MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(trailer.blockCount, 4);
  bytes.writeBigUInt64LE(trailer.recordCount, 8);
  bytes.writeBigUInt64LE(trailer.firstNs, 16);
  bytes.writeBigUInt64LE(trailer.lastNs, 24);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, 32)), 32);
  return bytes;
}

/** Decodes the 36 bytes of an end that starts with "END1" and verifies its CRC. */
export function decodeEnd(bytes: Buffer): Outcome<ObjectTrailer> {
  const stated = bytes.readUInt32LE(32);
  const actual = crc32(bytes.subarray(0, 32));
  if (stated !== actual) return failure(`end_crc mismatch: end says ${hex32(stated)}, its bytes give ${hex32(actual)}`);
  return success({
    blockCount: bytes.readUInt32LE(4),
    recordCount: bytes.readBigUInt64LE(8),
    firstNs: bytes.readBigUInt64LE(16),
    lastNs: bytes.readBigUInt64LE(24),
  });
}

/**
 * Whether the end agrees with what was read: `records` counts every record
 * framed in the good blocks, skipped unknown types included (the writer
 * counted them too).
 */
export function checkTrailer(trailer: ObjectTrailer, blocks: number, records: number): string | undefined {
  if (trailer.blockCount !== blocks) return `end says ${trailer.blockCount} blocks, ${blocks} were read`;
  if (trailer.recordCount !== BigInt(records)) return `end says ${trailer.recordCount} records, ${records} were read`;
  return undefined;
}
