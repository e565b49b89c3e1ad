/**
 * VXLAN (RFC 7348) as AWS Traffic Mirroring sends it: an 8-byte header with the
 * I flag (0x08) and the VNI, then the inner Ethernet frame, over UDP (4789) from
 * a source port that follows the inner flow.
 */
import type { Packet } from '../packet/packet.js';
import { innerFlowHash } from './flow-hash.js';
import { maxInnerSegmentPayload, vxlanHeaderLength } from './mtu.js';
import { UdpTunnelSink } from './udp-tunnel.js';
import type { UdpTunnelOptions } from './udp-tunnel.js';
import type { WireSink } from './wire-sink.js';

const validVniFlag = 0x08;

/** The VXLAN header, the same for every packet of one VNI. */
export function vxlanHeader(vni: number): Buffer {
  const header = Buffer.alloc(vxlanHeaderLength);
  header[0] = validVniFlag;
  header.writeUIntBE(vni & 0xffffff, 4, 3);
  return header;
}

export interface VxlanSinkOptions extends UdpTunnelOptions {
  /** 24-bit VXLAN network identifier. */
  readonly vni: number;
  /** Outer MTU. @default 1500 */
  readonly mtu?: number;
  /** For messages: the URL it was opened from. */
  readonly description: string;
}

export function createVxlanSink(options: VxlanSinkOptions): WireSink {
  return new VxlanSink(options);
}

class VxlanSink extends UdpTunnelSink {
  private readonly header: Buffer;

  constructor(private readonly options: VxlanSinkOptions) {
    super(options.description, options);
    this.header = vxlanHeader(options.vni);
  }

  write(packet: Packet): boolean {
    const length = vxlanHeaderLength + packet.header.length + packet.payload.length;
    const parts = packet.payload.length > 0 ? [this.header, packet.header, packet.payload] : [this.header, packet.header];
    return this.tunnel.send(innerFlowHash(packet.header), parts, length);
  }

  maxSegmentPayload(innerIpVersion: 4 | 6): number {
    return maxInnerSegmentPayload(this.options.mtu ?? 1500, { kind: 'vxlan' }, innerIpVersion, this.options.family);
  }
}
