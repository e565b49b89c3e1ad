/**
 * TCP headers with the options a host puts in a SYN (MSS, SACK-permitted,
 * window scale, NOP padding) and the checksum over pseudo-header, header and
 * payload, the payload summed in place.
 */
import { finishChecksum, sumBytes } from './checksum.js';

export const TCP_HEADER_LENGTH = 20;

export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
} as const;

const enum OptionKind {
  End = 0,
  Nop = 1,
  Mss = 2,
  WindowScale = 3,
  SackPermitted = 4,
}

/** What a SYN or SYN-ACK announces. */
export interface TcpSynOptions {
  readonly mss: number;
  /** 0..14 */
  readonly windowScale: number;
  readonly sackPermitted: boolean;
}

export interface TcpFields {
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** 32-bit sequence number (wrapped by the caller). */
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  /** The window field as sent (already shifted right by the scale). */
  readonly window: number;
  /** Only on SYN and SYN-ACK. */
  readonly synOptions?: TcpSynOptions;
}

export interface TcpHeader extends TcpFields {
  readonly headerLength: number;
  readonly checksum: number;
}

/** Windows' layout, 12 bytes: MSS, NOP, window scale, NOP, NOP, SACK-permitted. */
const SYN_OPTIONS_LENGTH = 12;

/** The header length these fields produce. */
export function tcpHeaderLength(fields: Pick<TcpFields, 'synOptions'>): number {
  return fields.synOptions === undefined ? TCP_HEADER_LENGTH : TCP_HEADER_LENGTH + SYN_OPTIONS_LENGTH;
}

/**
 * Writes the header at `offset` with its checksum over `pseudoHeaderSum`
 * (from ipv4PseudoHeaderSum / ipv6PseudoHeaderSum), the header and the payload
 * `payload[start, end)`. Returns the offset after the header.
 */
export function writeTcpHeader(
  buf: Buffer, offset: number, fields: TcpFields, pseudoHeaderSum: number, payload: Buffer, start = 0, end = payload.length,
): number {
  const headerLength = tcpHeaderLength(fields);
  const seq = fields.seq >>> 0;
  const ack = fields.ack >>> 0;
  const offsetAndFlags = ((headerLength / 4) << 12) | (fields.flags & 0xff);
  // Byte stores and a sum from the fields: this runs once per packet, and the
  // Buffer write helpers' range checks cost more than the header itself.
  put16(buf, offset, fields.sourcePort);
  put16(buf, offset + 2, fields.destinationPort);
  put16(buf, offset + 4, seq >>> 16);
  put16(buf, offset + 6, seq & 0xffff);
  put16(buf, offset + 8, ack >>> 16);
  put16(buf, offset + 10, ack & 0xffff);
  put16(buf, offset + 12, offsetAndFlags);
  put16(buf, offset + 14, fields.window);
  put16(buf, offset + 16, 0);
  put16(buf, offset + 18, 0);
  let sum = pseudoHeaderSum + headerLength + (end - start)
    + fields.sourcePort + fields.destinationPort + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff)
    + offsetAndFlags + fields.window;
  const headerEnd = offset + headerLength;
  if (fields.synOptions !== undefined) {
    writeSynOptions(buf, offset + TCP_HEADER_LENGTH, fields.synOptions);
    sum = sumBytes(buf, offset + TCP_HEADER_LENGTH, headerEnd, sum);
  }
  sum = sumBytes(payload, start, end, sum);
  put16(buf, offset + 16, finishChecksum(sum));
  return headerEnd;
}

function put16(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value & 0xff;
}

function writeSynOptions(buf: Buffer, offset: number, options: TcpSynOptions): void {
  buf[offset] = OptionKind.Mss;
  buf[offset + 1] = 4;
  buf.writeUInt16BE(options.mss, offset + 2);
  buf[offset + 4] = OptionKind.Nop;
  buf[offset + 5] = OptionKind.WindowScale;
  buf[offset + 6] = 3;
  buf[offset + 7] = options.windowScale;
  buf[offset + 8] = OptionKind.Nop;
  buf[offset + 9] = OptionKind.Nop;
  if (options.sackPermitted) {
    buf[offset + 10] = OptionKind.SackPermitted;
    buf[offset + 11] = 2;
  } else {
    buf[offset + 10] = OptionKind.Nop;
    buf[offset + 11] = OptionKind.Nop;
  }
}

/** Reads a header at `offset`, with the SYN options if present; throws on a short or bad header. */
export function parseTcpHeader(buf: Buffer, offset = 0): TcpHeader {
  if (buf.length - offset < TCP_HEADER_LENGTH) {
    throw new Error(`while parsing TCP at offset ${offset}: ${buf.length - offset} bytes, need ${TCP_HEADER_LENGTH}`);
  }
  const headerLength = (buf[offset + 12]! >> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH || buf.length - offset < headerLength) {
    throw new Error(`while parsing TCP at offset ${offset}: data offset ${headerLength} does not fit`);
  }
  return {
    sourcePort: buf.readUInt16BE(offset),
    destinationPort: buf.readUInt16BE(offset + 2),
    seq: buf.readUInt32BE(offset + 4),
    ack: buf.readUInt32BE(offset + 8),
    headerLength,
    flags: buf[offset + 13]!,
    window: buf.readUInt16BE(offset + 14),
    checksum: buf.readUInt16BE(offset + 16),
    synOptions: parseSynOptions(buf, offset + TCP_HEADER_LENGTH, offset + headerLength),
  };
}

function parseSynOptions(buf: Buffer, start: number, end: number): TcpSynOptions | undefined {
  let mss: number | undefined;
  let windowScale = 0;
  let sackPermitted = false;
  let i = start;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === OptionKind.End) break;
    if (kind === OptionKind.Nop) { i++; continue; }
    const length = buf[i + 1] ?? 0;
    if (length < 2 || i + length > end) throw new Error(`while parsing TCP options at offset ${i}: option ${kind} has length ${length}`);
    if (kind === OptionKind.Mss) mss = buf.readUInt16BE(i + 2);
    else if (kind === OptionKind.WindowScale) windowScale = buf[i + 2]!;
    else if (kind === OptionKind.SackPermitted) sackPermitted = true;
    i += length;
  }
  return mss === undefined ? undefined : { mss, windowScale, sackPermitted };
}
