/**
 * GENEVE (RFC 8926) over UDP 6081: protocol 0x6558 with the inner Ethernet
 * frame, or, as AWS Gateway Load Balancer does, `inner=ip` with the bare IP
 * packet (0x0800 / 0x86DD); option TLVs as given in the URL.
 */
import type { Packet } from '../packet/packet.js';
import { innerFlowHash } from './flow-hash.js';
import { geneveBaseHeaderLength, maxInnerSegmentPayload } from './mtu.js';
import { UdpTunnelSink } from './udp-tunnel.js';
import type { UdpTunnelOptions } from './udp-tunnel.js';
import type { WireSink } from './wire-sink.js';

export interface GeneveOption {
  /** 16-bit option class (e.g. 0x0108 for AWS). */
  readonly optionClass: number;
  /** 8 bits; the high bit marks the option critical. */
  readonly type: number;
  /** 0 to 124 bytes, a multiple of 4. */
  readonly data: Buffer;
}

export const protocolTransparentEthernet = 0x6558;
const etherTypeIpv4 = 0x0800;
const etherTypeIpv6 = 0x86dd;
const ethernetHeaderLength = 14;

/**
 * The GENEVE header with its options, the same for every packet of one
 * (VNI, protocol). Version 0, O and C flags clear: these are data packets, and
 * a critical option is flagged by its own type bit.
 * @throws Error when an option's data is not a multiple of 4 bytes or the options exceed 252 bytes
 */
export function geneveHeader(vni: number, protocolType: number, options: readonly GeneveOption[] = []): Buffer {
  const optionsLength = options.reduce((sum, option) => sum + 4 + option.data.length, 0);
  if (optionsLength > 252) throw new Error(`GENEVE options take ${optionsLength} bytes, at most 252 fit`);
  const header = Buffer.alloc(geneveBaseHeaderLength + optionsLength);
  header[0] = optionsLength / 4; // version 0 in the top two bits
  header[1] = 0;
  header.writeUInt16BE(protocolType, 2);
  header.writeUIntBE(vni & 0xffffff, 4, 3);
  let offset = geneveBaseHeaderLength;
  for (const option of options) {
    if (option.data.length % 4 !== 0 || option.data.length > 124) {
      throw new Error(`GENEVE option class 0x${option.optionClass.toString(16)}: data of ${option.data.length} bytes is not a multiple of 4 up to 124`);
    }
    header.writeUInt16BE(option.optionClass, offset);
    header[offset + 2] = option.type;
    header[offset + 3] = option.data.length / 4; // three reserved bits, then length in words
    option.data.copy(header, offset + 4);
    offset += 4 + option.data.length;
  }
  return header;
}

export interface GeneveSinkOptions extends UdpTunnelOptions {
  readonly vni: number;
  /** What the tunnel carries. @default 'ethernet' */
  readonly inner?: 'ethernet' | 'ip';
  /** @default [] */
  readonly options?: readonly GeneveOption[];
  /** Outer MTU. @default 1500 */
  readonly mtu?: number;
  readonly description: string;
}

export function createGeneveSink(options: GeneveSinkOptions): WireSink {
  return new GeneveSink(options);
}

class GeneveSink extends UdpTunnelSink {
  private readonly inner: 'ethernet' | 'ip';
  private readonly ethernetHeader: Buffer;
  private readonly ipv4Header: Buffer;
  private readonly ipv6Header: Buffer;

  constructor(private readonly options: GeneveSinkOptions) {
    super(options.description, options);
    this.inner = options.inner ?? 'ethernet';
    this.ethernetHeader = geneveHeader(options.vni, protocolTransparentEthernet, options.options);
    this.ipv4Header = geneveHeader(options.vni, etherTypeIpv4, options.options);
    this.ipv6Header = geneveHeader(options.vni, etherTypeIpv6, options.options);
  }

  write(packet: Packet): boolean {
    const hash = innerFlowHash(packet.header);
    let tunnelHeader = this.ethernetHeader;
    let frameHeader = packet.header;
    if (this.inner === 'ip') {
      const etherType = packet.header.readUInt16BE(12);
      if (etherType !== etherTypeIpv4 && etherType !== etherTypeIpv6) {
        // Only IP fits an inner=ip tunnel: count the frame rather than send garbage.
        this.stats.dropped++;
        return true;
      }
      tunnelHeader = etherType === etherTypeIpv4 ? this.ipv4Header : this.ipv6Header;
      frameHeader = packet.header.subarray(ethernetHeaderLength);
    }
    const length = tunnelHeader.length + frameHeader.length + packet.payload.length;
    const parts = packet.payload.length > 0 ? [tunnelHeader, frameHeader, packet.payload] : [tunnelHeader, frameHeader];
    return this.tunnel.send(hash, parts, length);
  }

  maxSegmentPayload(innerIpVersion: 4 | 6): number {
    const optionsLength = this.ethernetHeader.length - geneveBaseHeaderLength;
    return maxInnerSegmentPayload(
      this.options.mtu ?? 1500,
      { kind: 'geneve', inner: this.inner, optionsLength },
      innerIpVersion,
      this.options.family,
    );
  }
}
