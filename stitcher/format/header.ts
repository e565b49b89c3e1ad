/** The object header: magic "CTAP", version, kind, gateway, seq, created_ns, header_crc. */
import { crc32 } from './crc32.js';
import { HEADER_FIXED_BYTES, HEADER_MAGIC, HEADER_PREFIX_BYTES, isValidGateway } from './layout.js';
import { failure, hex32, showMagic, success, type Outcome } from './outcome.js';
import { checkU64 } from './integers.js';
import { CTAP_VERSION, ObjectKind, type ObjectHeader } from './records.js';

/** What a writer says about the object it starts; the version is always this codec's. */
export interface HeaderFields {
  readonly kind: ObjectKind;
  readonly gateway: string;
  readonly seq: bigint;
  readonly createdNs: bigint;
}

/** @throws RangeError naming the field when the kind, gateway, seq or created_ns is out of range. */
export function encodeHeader(fields: HeaderFields): Buffer {
  if (fields.kind !== ObjectKind.Traffic && fields.kind !== ObjectKind.Keys) {
    throw new RangeError(`object kind ${String(fields.kind)} is neither 1 (traffic) nor 2 (keys)`);
  }
  if (!isValidGateway(fields.gateway)) throw new RangeError(`gateway ${JSON.stringify(fields.gateway)} is not [a-z0-9][a-z0-9._-]{0,62}`);
  checkU64(fields.seq, 'seq');
  checkU64(fields.createdNs, 'created_ns');
  const gateway = Buffer.from(fields.gateway, 'utf8');
  const bytes = Buffer.alloc(HEADER_FIXED_BYTES + gateway.length);
  HEADER_MAGIC.copy(bytes, 0);
  bytes.writeUInt16LE(CTAP_VERSION, 4);
  bytes[6] = fields.kind;
  bytes[8] = gateway.length;
  gateway.copy(bytes, HEADER_PREFIX_BYTES);
  let at = HEADER_PREFIX_BYTES + gateway.length;
  at = bytes.writeBigUInt64LE(fields.seq, at);
  at = bytes.writeBigUInt64LE(fields.createdNs, at);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, at)), at);
  return bytes;
}

/**
 * Checks what the first bytes of an object already tell (magic, version,
 * kind), on as many of the first 9 bytes as are there. The version is
 * checked before any CRC: a newer major version may lay its header out
 * differently, and deserves to be refused by name.
 */
export function checkHeaderPrefix(prefix: Buffer): string | undefined {
  if (prefix.length >= 4 && !prefix.subarray(0, 4).equals(HEADER_MAGIC)) {
    return `not a CTAP object: starts with ${showMagic(prefix.subarray(0, 4))}, expected "CTAP"`;
  }
  if (prefix.length >= 6) {
    const version = prefix.readUInt16LE(4);
    if (version > CTAP_VERSION) return `CTAP version ${version} is newer than this reader (${CTAP_VERSION})`;
    if (version < 1) return `CTAP version ${version} does not exist (this reader reads ${CTAP_VERSION})`;
  }
  if (prefix.length >= 7) {
    const kind = prefix[6];
    if (kind !== ObjectKind.Traffic && kind !== ObjectKind.Keys) return `unknown object kind ${kind} (expected 1 traffic or 2 keys)`;
  }
  return undefined;
}

/** The whole header's length, from its first 9 bytes. */
export function headerLength(prefix: Buffer): number {
  return HEADER_FIXED_BYTES + prefix[8];
}

/** Decodes a whole header (checked with checkHeaderPrefix) and verifies its CRC. */
export function decodeHeader(bytes: Buffer): Outcome<ObjectHeader> {
  const crcAt = bytes.length - 4;
  const stated = bytes.readUInt32LE(crcAt);
  const actual = crc32(bytes.subarray(0, crcAt));
  if (stated !== actual) return failure(`header_crc mismatch: header says ${hex32(stated)}, its bytes give ${hex32(actual)}`);
  const gatewayEnd = HEADER_PREFIX_BYTES + bytes[8];
  return success({
    version: bytes.readUInt16LE(4),
    kind: bytes[6] as ObjectKind,
    gateway: bytes.toString('utf8', HEADER_PREFIX_BYTES, gatewayEnd),
    seq: bytes.readBigUInt64LE(gatewayEnd),
    createdNs: bytes.readBigUInt64LE(gatewayEnd + 8),
  });
}
