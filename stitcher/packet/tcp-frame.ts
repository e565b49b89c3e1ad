/**
 * One direction of a TCP connection as frames on an Ethernet link:
 * Ethernet + IPv4 or IPv6 + TCP headers written into a slab-backed buffer of
 * their own (the payload left where it is), or whole frames written straight
 * into an output's memory. The Ethernet and IP headers are the same for
 * every packet of a direction but for length, IPv4 ID and checksum: they are
 * built once as a template, copied, and patched.
 */
import { finishChecksum, sumBytes } from './checksum.js';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from './ethernet.js';
import { HeaderSlab } from './header-slab.js';
import { IP_PROTOCOL_TCP, IPV4_HEADER_LENGTH, ipv4PseudoHeaderSum, writeIpv4Header } from './ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6PseudoHeaderSum, writeIpv6Header } from './ipv6.js';
import { tcpHeaderLength, writeTcpHeader, type TcpFields } from './tcp.js';
import type { Packet } from './packet.js';

/**
 * Where the segments of TcpPaths go: as Packets (PacketBuilder), or written
 * straight into an output's memory by `TcpPath.writeFrame`. A segment's payload
 * is `payload[start, end)`, a range of the bytes it was cut from: a view made per
 * segment was the largest allocation of a bulk run (about 100 bytes a packet).
 */
export interface SegmentOutput {
  segment(tsNs: bigint, path: TcpPath, tcp: TcpFields, payload: Buffer, start: number, end: number): void;
}

export interface TcpPathEnds {
  readonly ipVersion: 4 | 6;
  readonly sourceMac: Buffer;
  readonly destinationMac: Buffer;
  /** 4 or 16 bytes, network byte order. */
  readonly sourceIp: Buffer;
  readonly destinationIp: Buffer;
  /** First IPv4 identification; rises by one per packet. @default 0 */
  readonly firstIpId?: number;
}

const IP_LENGTH_FIELD = ETHERNET_HEADER_LENGTH + 2;
const IPV4_ID_FIELD = ETHERNET_HEADER_LENGTH + 4;
const IPV4_CHECKSUM_FIELD = ETHERNET_HEADER_LENGTH + 10;
const IPV6_PAYLOAD_LENGTH_FIELD = ETHERNET_HEADER_LENGTH + 4;

/** The headers of one direction; keeps the IPv4 ID counter and the pseudo-header sum. */
export class TcpPath {
  private readonly template: Buffer;
  /** Sum of the IPv4 template header with length, ID and checksum zero. */
  private readonly ipv4BaseSum: number;
  private readonly pseudoHeaderSum: number;
  private readonly v4: boolean;
  private ipId: number;

  /** The IPv4 identification of the next packet (a checkpoint keeps it; IPv6 has none). */
  get nextIpId(): number {
    return this.ipId;
  }

  set nextIpId(value: number) {
    this.ipId = value & 0xffff;
  }

  constructor(ends: TcpPathEnds) {
    this.v4 = ends.ipVersion === 4;
    const ipLength = this.v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    // From Node's shared pool (a slice, not an ArrayBuffer of its own): two per open connection add up at 100,000 flows.
    this.template = Buffer.allocUnsafe(ETHERNET_HEADER_LENGTH + ipLength).fill(0);
    writeEthernetHeader(this.template, 0, {
      destination: ends.destinationMac, source: ends.sourceMac, etherType: this.v4 ? EtherType.Ipv4 : EtherType.Ipv6,
    });
    const ip = { source: ends.sourceIp, destination: ends.destinationIp, payloadLength: 0 };
    if (this.v4) writeIpv4Header(this.template, ETHERNET_HEADER_LENGTH, { ...ip, identification: 0, protocol: IP_PROTOCOL_TCP });
    else writeIpv6Header(this.template, ETHERNET_HEADER_LENGTH, { ...ip, nextHeader: IP_PROTOCOL_TCP });
    this.template.writeUInt16BE(0, IP_LENGTH_FIELD);
    if (this.v4) this.template.writeUInt16BE(0, IPV4_CHECKSUM_FIELD);
    this.ipv4BaseSum = sumBytes(this.template, ETHERNET_HEADER_LENGTH, this.template.length);
    this.pseudoHeaderSum = this.v4
      ? ipv4PseudoHeaderSum(ends.sourceIp, ends.destinationIp, IP_PROTOCOL_TCP)
      : ipv6PseudoHeaderSum(ends.sourceIp, ends.destinationIp, IP_PROTOCOL_TCP);
    this.ipId = ends.firstIpId ?? 0;
  }

  /** Bytes of Ethernet + IP + TCP headers for these TCP fields. */
  headerLength(tcp: TcpFields): number {
    return this.template.length + tcpHeaderLength(tcp);
  }

  /**
   * The whole frame at `target[offset..]`: a copy of `payload[start, end)` (Buffer.copy: no view made),
   * then the headers, the TCP checksum summed over the copy: a capture file's chunks are summable in
   * place (allocateSummable), where a decrypted record, say, is not, and the copy is in the cache.
   */
  writeFrame(target: Buffer, offset: number, tcp: TcpFields, payload: Buffer, start = 0, end = payload.length): void {
    const payloadAt = offset + this.headerLength(tcp);
    payload.copy(target, payloadAt, start, end);
    this.writeHeaders(target, offset, tcp, target, payloadAt, payloadAt + (end - start));
  }

  /**
   * Ethernet + IP + TCP headers for a segment carrying `payload[start, end)`
   * (summed, not copied) at `buf[offset..]`; returns where the payload goes.
   */
  writeHeaders(buf: Buffer, offset: number, tcp: TcpFields, payload: Buffer, start = 0, end = payload.length): number {
    const tcpLength = tcpHeaderLength(tcp);
    buf.set(this.template, offset);
    const ipPayloadLength = tcpLength + (end - start);
    // Byte stores, not writeUInt16BE: once per packet, the range checks are not free (lengths are checked here).
    if (this.v4) {
      const totalLength = IPV4_HEADER_LENGTH + ipPayloadLength;
      if (totalLength > 0xffff) throw new Error(`while building an IPv4 packet: total length ${totalLength} exceeds 65535`);
      put16(buf, offset + IP_LENGTH_FIELD, totalLength);
      put16(buf, offset + IPV4_ID_FIELD, this.ipId);
      put16(buf, offset + IPV4_CHECKSUM_FIELD, finishChecksum(this.ipv4BaseSum + totalLength + this.ipId));
      this.ipId = (this.ipId + 1) & 0xffff;
    } else {
      if (ipPayloadLength > 0xffff) throw new Error(`while building an IPv6 packet: payload length ${ipPayloadLength} exceeds 65535`);
      put16(buf, offset + IPV6_PAYLOAD_LENGTH_FIELD, ipPayloadLength);
    }
    return writeTcpHeader(buf, offset + this.template.length, tcp, this.pseudoHeaderSum, payload, start, end);
  }
}

/** Segments as Packets: headers in slices of a shared slab, payloads left where they are. */
export class PacketBuilder implements SegmentOutput {
  constructor(private readonly emit: (packet: Packet) => void, private readonly slab = new HeaderSlab()) {}

  segment(tsNs: bigint, path: TcpPath, tcp: TcpFields, payload: Buffer, start: number, end: number): void {
    const header = this.slab.take(path.headerLength(tcp));
    path.writeHeaders(header, 0, tcp, payload, start, end);
    this.emit({ tsNs, header, payload: start === 0 && end === payload.length ? payload : payload.subarray(start, end) });
  }
}

function put16(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value & 0xff;
}
