/**
 * The outer UDP source port of a tunnelled frame, from its inner 5-tuple, the
 * way AWS Traffic Mirroring picks it: one flow always takes one path (one ECMP
 * route, one RSS queue on the sensor). The hash is symmetric, so both directions
 * of a connection take the same path: a sensor needs both on one core.
 */

const etherTypeIpv4 = 0x0800;
const etherTypeIpv6 = 0x86dd;
const etherTypeVlan = 0x8100;

/** The ephemeral range RFC 7348 recommends for the outer source port. */
export const tunnelPortBase = 49152;
export const tunnelPortCount = 16384;

/**
 * A 32-bit hash of the inner (addresses, ports, protocol), the same for both
 * directions; frames that are not IPv4/IPv6 hash their EtherType only.
 * Reads at most the first 58 bytes of `frame` (Ethernet + IP + ports).
 */
export function innerFlowHash(frame: Buffer): number {
  let offset = 12;
  if (frame.length < offset + 2) return 0;
  let etherType = u16(frame, offset);
  if (etherType === etherTypeVlan && frame.length >= 18) {
    offset += 4;
    etherType = u16(frame, offset);
  }
  offset += 2;
  if (etherType === etherTypeIpv4 && frame.length >= offset + 20) {
    const headerLength = (frame[offset]! & 0x0f) * 4;
    const protocol = frame[offset + 9]!;
    const a = u32(frame, offset + 12);
    const b = u32(frame, offset + 16);
    const ports = readPorts(frame, offset + headerLength, protocol);
    return endpointsHash(protocol, a, ports >>> 16, b, ports & 0xffff);
  }
  if (etherType === etherTypeIpv6 && frame.length >= offset + 40) {
    const protocol = frame[offset + 6]!;
    const a = foldAddress(frame, offset + 8);
    const b = foldAddress(frame, offset + 24);
    const ports = readPorts(frame, offset + 40, protocol);
    return endpointsHash(protocol, a, ports >>> 16, b, ports & 0xffff);
  }
  return mix(etherType);
}

/**
 * One of `count` source ports spread evenly over 49152-65535; with count 16384
 * every port of the range is used.
 */
export function tunnelSourcePort(hash: number, count: number): number {
  const slot = (hash >>> 0) % count;
  return tunnelPortBase + slot * Math.floor(tunnelPortCount / count);
}

// Byte reads, not readUInt16BE/readUInt32BE: once per packet sent, their range checks cost more than the
// reads (every length is checked above). Big-endian, as the headers are.
function u16(frame: Buffer, offset: number): number {
  return (frame[offset]! << 8) | frame[offset + 1]!;
}

function u32(frame: Buffer, offset: number): number {
  return ((frame[offset]! << 24) | (frame[offset + 1]! << 16) | (frame[offset + 2]! << 8) | frame[offset + 3]!) >>> 0;
}

/** Source and destination port as (src << 16 | dst) for TCP, UDP and SCTP, else 0. */
function readPorts(frame: Buffer, offset: number, protocol: number): number {
  if ((protocol !== 6 && protocol !== 17 && protocol !== 132) || frame.length < offset + 4) return 0;
  return u32(frame, offset);
}

function foldAddress(frame: Buffer, offset: number): number {
  let hash = 0;
  for (let word = 0; word < 16; word += 4) hash = mix(hash ^ u32(frame, offset + word));
  return hash;
}

/** Orders the two endpoints so that A->B and B->A hash alike. */
function endpointsHash(protocol: number, addressA: number, portA: number, addressB: number, portB: number): number {
  const aFirst = addressA >>> 0 < addressB >>> 0 || (addressA === addressB && portA <= portB);
  const lowAddress = aFirst ? addressA : addressB;
  const highAddress = aFirst ? addressB : addressA;
  const ports = aFirst ? (portA << 16) | portB : (portB << 16) | portA;
  let hash = mix(protocol);
  hash = mix(hash ^ lowAddress);
  hash = mix(hash ^ highAddress);
  return mix(hash ^ ports) >>> 0;
}

/** The murmur3 finaliser: cheap, and every input bit moves every output bit. */
function mix(value: number): number {
  let h = (value ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
