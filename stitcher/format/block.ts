/**
 * One block: "BLK1" | codec | reserved(3) | stored_len | raw_len | raw_crc
 * | stored bytes. Every length is checked against the limits before
 * anything is allocated, and the CRC after decompression.
 */
import { constants, deflateRawSync, gunzipSync, gzipSync, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { crc32 } from './crc32.js';
import { BLOCK_HEADER_BYTES, BLOCK_MAGIC, MAX_RAW_BYTES, codecName, isBlockCodec, maxStoredBytes } from './layout.js';
import { failure, hex32, success, type Outcome } from './outcome.js';
import { BlockCodec } from './records.js';

export interface BlockHeader {
  readonly codec: BlockCodec;
  readonly storedLen: number;
  readonly rawLen: number;
  readonly rawCrc: number;
}

export interface DecodedBlock {
  readonly raw: Buffer;
  /** Stored bytes the compressed data really took: less than stored_len when stored_len lies. */
  readonly consumed: number;
}

/** @throws RangeError when `raw` is over the 8 MiB block limit. */
export function encodeBlock(raw: Buffer, codec: BlockCodec): Buffer {
  if (raw.length > MAX_RAW_BYTES) throw new RangeError(`block of ${raw.length} bytes is over the ${MAX_RAW_BYTES}-byte limit`);
  const stored = compress(raw, codec);
  const header = Buffer.alloc(BLOCK_HEADER_BYTES);
  BLOCK_MAGIC.copy(header, 0);
  header[4] = codec;
  header.writeUInt32LE(stored.length, 8);
  header.writeUInt32LE(raw.length, 12);
  header.writeUInt32LE(crc32(raw), 16);
  return Buffer.concat([header, stored], BLOCK_HEADER_BYTES + stored.length);
}

function compress(raw: Buffer, codec: BlockCodec): Buffer {
  switch (codec) {
    case BlockCodec.None:
      return raw;
    case BlockCodec.Deflate:
      return deflateRawSync(raw);
    case BlockCodec.Gzip:
      return gzipSync(raw);
    default:
      throw new RangeError(`block codec ${String(codec)} is not 0 (none), 1 (deflate) or 2 (gzip)`);
  }
}

/** Parses and sanity-checks the 20 bytes of a block header that starts with "BLK1". */
export function parseBlockHeader(bytes: Buffer): Outcome<BlockHeader> {
  const codec = bytes[4];
  const storedLen = bytes.readUInt32LE(8);
  const rawLen = bytes.readUInt32LE(12);
  if (!isBlockCodec(codec)) return failure(`unknown codec ${codec}`);
  if (rawLen > MAX_RAW_BYTES) return failure(`raw_len ${rawLen} is over the ${MAX_RAW_BYTES}-byte limit`);
  if (codec === BlockCodec.None && storedLen !== rawLen) {
    return failure(`stored_len ${storedLen} differs from raw_len ${rawLen} in an uncompressed block`);
  }
  const most = maxStoredBytes(codec, rawLen);
  if (storedLen > most) return failure(`stored_len ${storedLen} is more than ${codecName(codec)} can take for raw_len ${rawLen} (at most ${most})`);
  return success({ codec, storedLen, rawLen, rawCrc: bytes.readUInt32LE(16) });
}

/**
 * Decompresses and verifies a block's stored bytes. `stored` may be shorter
 * than stored_len (a truncated object): a deflate stream that ends inside
 * it and checks out is still good.
 */
export function decodeBlock(header: BlockHeader, stored: Buffer): Outcome<DecodedBlock> {
  const inflated = decompress(header, stored);
  if (!inflated.ok) return inflated;
  const { raw } = inflated.value;
  if (raw.length !== header.rawLen) return failure(`decompresses to ${raw.length} bytes but raw_len is ${header.rawLen}`);
  const actual = crc32(raw);
  if (actual !== header.rawCrc) return failure(`raw_crc mismatch: block says ${hex32(header.rawCrc)}, its decoded bytes give ${hex32(actual)}`);
  return inflated;
}

/** zlib's sync functions hand back the engine, and so the input it consumed, when asked with `info`. */
interface InflateInfo {
  readonly buffer: Buffer;
  readonly engine: { readonly bytesWritten: number };
}

function decompress(header: BlockHeader, stored: Buffer): Outcome<DecodedBlock> {
  if (header.codec === BlockCodec.None) {
    if (stored.length < header.storedLen) return failure(`only ${stored.length} of stored_len ${header.storedLen} bytes are there`);
    return success({ raw: stored.subarray(0, header.storedLen), consumed: header.storedLen });
  }
  // maxOutputLength caps the allocation at raw_len (zlib refuses 0); one output chunk of raw_len
  // (zlib's least is 64) spares the copy that joins 16 KiB pieces, about twice as fast on HTTP-like data.
  const options: ZlibOptions & { info: true } = { info: true, maxOutputLength: Math.max(1, header.rawLen), chunkSize: Math.max(64, header.rawLen) };
  const input = stored.subarray(0, header.storedLen);
  try {
    const inflate = header.codec === BlockCodec.Deflate ? inflateRawSync : gunzipSync;
    const out = inflate(input, options) as unknown as InflateInfo;
    return success({ raw: out.buffer, consumed: out.engine.bytesWritten });
  } catch (error) {
    return failure(describeZlibError(error, header));
  }
}

function describeZlibError(error: unknown, header: BlockHeader): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ERR_BUFFER_TOO_LARGE') return `decompresses to more than raw_len ${header.rawLen} bytes`;
  if (code === 'Z_BUF_ERROR' || code === constants.Z_BUF_ERROR) {
    return `${codecName(header.codec)} data ends before its stream does (stored_len ${header.storedLen})`;
  }
  return `${codecName(header.codec)} data does not decompress: ${String(message ?? error)}`;
}
