/** IPv6 fixed headers (40 bytes, no extension headers). */
import { sumBytes } from './checksum.js';

export const IPV6_HEADER_LENGTH = 40;
/** The hop limit hosts usually start with (as IPv4's TTL 64). */
export const DEFAULT_HOP_LIMIT = 64;

export interface Ipv6Fields {
  readonly source: Buffer;
  readonly destination: Buffer;
  /** Bytes after the fixed header. */
  readonly payloadLength: number;
  readonly nextHeader: number;
  /** 20 bits. @default 0 */
  readonly flowLabel?: number;
  /** @default 64 */
  readonly hopLimit?: number;
}

export type Ipv6Header = Required<Ipv6Fields>;

/** Writes the header at `offset` and returns the offset after it. */
export function writeIpv6Header(buf: Buffer, offset: number, fields: Ipv6Fields): number {
  if (fields.payloadLength > 0xffff) {
    throw new Error(`while building an IPv6 header: payload length ${fields.payloadLength} exceeds 65535`);
  }
  buf.writeUInt32BE((0x60000000 | ((fields.flowLabel ?? 0) & 0xfffff)) >>> 0, offset);
  buf.writeUInt16BE(fields.payloadLength, offset + 4);
  buf[offset + 6] = fields.nextHeader;
  buf[offset + 7] = fields.hopLimit ?? DEFAULT_HOP_LIMIT;
  fields.source.copy(buf, offset + 8, 0, 16);
  fields.destination.copy(buf, offset + 24, 0, 16);
  return offset + IPV6_HEADER_LENGTH;
}

/** The partial sum of the upper-layer pseudo-header (RFC 8200 8.1) without its length. */
export function ipv6PseudoHeaderSum(source: Buffer, destination: Buffer, nextHeader: number): number {
  return sumBytes(destination, 0, 16, sumBytes(source, 0, 16)) + nextHeader;
}

/** Reads a fixed header at `offset`; throws naming the field when it is not IPv6. */
export function parseIpv6Header(buf: Buffer, offset = 0): Ipv6Header {
  if (buf.length - offset < IPV6_HEADER_LENGTH) {
    throw new Error(`while parsing IPv6 at offset ${offset}: ${buf.length - offset} bytes, need ${IPV6_HEADER_LENGTH}`);
  }
  const first = buf.readUInt32BE(offset);
  if (first >>> 28 !== 6) throw new Error(`while parsing IPv6 at offset ${offset}: version is ${first >>> 28}`);
  return {
    flowLabel: first & 0xfffff,
    payloadLength: buf.readUInt16BE(offset + 4),
    nextHeader: buf[offset + 6]!,
    hopLimit: buf[offset + 7]!,
    source: buf.subarray(offset + 8, offset + 24),
    destination: buf.subarray(offset + 24, offset + 40),
  };
}
