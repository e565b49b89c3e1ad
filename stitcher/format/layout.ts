/**
 * Sizes, magics and limits of the CTAP v1 byte layout (docs/ctap-format.md),
 * shared by the writer and the reader so that the two cannot drift apart.
 */
import { BlockCodec } from './records.js';

export const HEADER_MAGIC = Buffer.from('CTAP', 'latin1');
export const BLOCK_MAGIC = Buffer.from('BLK1', 'latin1');
export const END_MAGIC = Buffer.from('END1', 'latin1');

/** magic, version, kind, reserved, gateway_len: enough to learn the header's length. */
export const HEADER_PREFIX_BYTES = 9;
/** A header without its gateway: prefix, seq, created_ns, header_crc. */
export const HEADER_FIXED_BYTES = HEADER_PREFIX_BYTES + 8 + 8 + 4;
export const BLOCK_HEADER_BYTES = 20;
export const END_BYTES = 36;
/** type u8 and body_len u32. */
export const RECORD_HEADER_BYTES = 5;

/** The most decoded bytes one block may hold. */
export const MAX_RAW_BYTES = 8 * 1024 * 1024;

/** Object gateway names: one writer instance. */
export const GATEWAY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const CODEC_NAMES: Record<number, string> = { [BlockCodec.None]: 'none', [BlockCodec.Deflate]: 'deflate', [BlockCodec.Gzip]: 'gzip' };

export function isBlockCodec(value: number): value is BlockCodec {
  return CODEC_NAMES[value] !== undefined;
}

export function codecName(codec: BlockCodec): string {
  return CODEC_NAMES[codec] ?? `codec ${codec}`;
}

/**
 * The most stored bytes a sane writer produces for `rawLen` decoded bytes:
 * exactly `rawLen` when uncompressed, else zlib's worst-case expansion
 * (stored deflate blocks: 5 bytes per 16 KiB) with generous room for the
 * gzip wrapper. Anything larger is a length that lies.
 */
export function maxStoredBytes(codec: BlockCodec, rawLen: number): number {
  if (codec === BlockCodec.None) return rawLen;
  return rawLen + (rawLen >>> 8) + 64;
}

export function isValidGateway(gateway: string): boolean {
  return GATEWAY_PATTERN.test(gateway);
}
