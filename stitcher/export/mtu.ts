/**
 * Segment sizing so that no outer packet exceeds the MTU and nothing is ever IP
 * fragmented: outer IP + UDP + tunnel header (+ GENEVE options) + inner Ethernet
 * + inner IP + TCP (data segments carry no TCP options: only the synthesiser's
 * SYNs do, and they carry no payload).
 */
import type { WireUrl } from './wire-url.js';

export type Encapsulation =
  | { readonly kind: 'vxlan' }
  | { readonly kind: 'geneve'; readonly inner: 'ethernet' | 'ip'; readonly optionsLength: number }
  /** Frames as they are, in a pcap stream: `mtu` is then the inner IP MTU. */
  | { readonly kind: 'pcap-over-ip' };

const ethernetHeader = 14;
const udpHeader = 8;
const tcpHeader = 20;
export const vxlanHeaderLength = 8;
export const geneveBaseHeaderLength = 8;

export function ipHeaderLength(version: 4 | 6): number {
  return version === 4 ? 20 : 40;
}

/** Bytes a tunnel adds in front of the inner IP packet, outer IP header included. */
export function encapsulationOverhead(encapsulation: Encapsulation, outerIpVersion: 4 | 6): number {
  switch (encapsulation.kind) {
    case 'vxlan':
      return ipHeaderLength(outerIpVersion) + udpHeader + vxlanHeaderLength + ethernetHeader;
    case 'geneve': {
      const inner = encapsulation.inner === 'ethernet' ? ethernetHeader : 0;
      return ipHeaderLength(outerIpVersion) + udpHeader + geneveBaseHeaderLength + encapsulation.optionsLength + inner;
    }
    case 'pcap-over-ip':
      return 0;
  }
}

/**
 * The largest TCP payload of an inner segment that keeps the outer packet
 * within `mtu`. `outerIpVersion` defaults to 6, the larger header, when the
 * peer's address family is not known yet.
 * @throws Error when the MTU leaves no room for payload
 */
export function maxInnerSegmentPayload(
  mtu: number,
  encapsulation: Encapsulation,
  innerIpVersion: 4 | 6,
  outerIpVersion: 4 | 6 = 6,
): number {
  const payload = mtu - encapsulationOverhead(encapsulation, outerIpVersion) - ipHeaderLength(innerIpVersion) - tcpHeader;
  if (payload < 1) throw new Error(`MTU ${mtu} leaves no room for TCP payload inside ${encapsulation.kind}`);
  return payload;
}

export function encapsulationOf(wire: WireUrl): Encapsulation {
  if (wire.kind === 'geneve') {
    return { kind: 'geneve', inner: wire.inner, optionsLength: wire.options.reduce((sum, o) => sum + 4 + o.data.length, 0) };
  }
  return { kind: wire.kind };
}
