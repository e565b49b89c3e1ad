/** IPv4 headers without options (20 bytes): built with a valid header checksum. */
import { internetChecksum, sumBytes } from './checksum.js';

export const IPV4_HEADER_LENGTH = 20;
/** Linux's default TTL for locally generated packets. */
export const DEFAULT_TTL = 64;
export const IP_PROTOCOL_TCP = 6;

const FLAG_DONT_FRAGMENT = 0x4000;

export interface Ipv4Fields {
  readonly source: Buffer;
  readonly destination: Buffer;
  /** Bytes after the IP header. */
  readonly payloadLength: number;
  readonly identification: number;
  readonly protocol: number;
  /** @default 64 */
  readonly ttl?: number;
  /** Sets DF, as hosts doing path MTU discovery do. @default true */
  readonly dontFragment?: boolean;
}

export interface Ipv4Header extends Required<Ipv4Fields> {
  readonly headerLength: number;
  readonly totalLength: number;
  readonly checksum: number;
}

/** Writes the header at `offset` and returns the offset after it. */
export function writeIpv4Header(buf: Buffer, offset: number, fields: Ipv4Fields): number {
  const totalLength = IPV4_HEADER_LENGTH + fields.payloadLength;
  if (totalLength > 0xffff) {
    throw new Error(`while building an IPv4 header: total length ${totalLength} exceeds 65535`);
  }
  buf[offset] = 0x45;
  buf[offset + 1] = 0;
  buf.writeUInt16BE(totalLength, offset + 2);
  buf.writeUInt16BE(fields.identification & 0xffff, offset + 4);
  buf.writeUInt16BE(fields.dontFragment === false ? 0 : FLAG_DONT_FRAGMENT, offset + 6);
  buf[offset + 8] = fields.ttl ?? DEFAULT_TTL;
  buf[offset + 9] = fields.protocol;
  buf.writeUInt16BE(0, offset + 10);
  fields.source.copy(buf, offset + 12, 0, 4);
  fields.destination.copy(buf, offset + 16, 0, 4);
  buf.writeUInt16BE(internetChecksum(buf, offset, offset + IPV4_HEADER_LENGTH), offset + 10);
  return offset + IPV4_HEADER_LENGTH;
}

/** The partial sum of the TCP/UDP pseudo-header without its length field (added per packet). */
export function ipv4PseudoHeaderSum(source: Buffer, destination: Buffer, protocol: number): number {
  return sumBytes(destination, 0, 4, sumBytes(source, 0, 4)) + protocol;
}

/** Reads a header at `offset`; throws naming the field when it is not IPv4. */
export function parseIpv4Header(buf: Buffer, offset = 0): Ipv4Header {
  if (buf.length - offset < IPV4_HEADER_LENGTH) {
    throw new Error(`while parsing IPv4 at offset ${offset}: ${buf.length - offset} bytes, need ${IPV4_HEADER_LENGTH}`);
  }
  const version = buf[offset]! >> 4;
  if (version !== 4) throw new Error(`while parsing IPv4 at offset ${offset}: version is ${version}`);
  const headerLength = (buf[offset]! & 0x0f) * 4;
  const totalLength = buf.readUInt16BE(offset + 2);
  return {
    headerLength,
    totalLength,
    payloadLength: totalLength - headerLength,
    identification: buf.readUInt16BE(offset + 4),
    dontFragment: (buf.readUInt16BE(offset + 6) & FLAG_DONT_FRAGMENT) !== 0,
    ttl: buf[offset + 8]!,
    protocol: buf[offset + 9]!,
    checksum: buf.readUInt16BE(offset + 10),
    source: buf.subarray(offset + 12, offset + 16),
    destination: buf.subarray(offset + 16, offset + 20),
  };
}
