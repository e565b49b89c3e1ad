/** Ethernet II framing: destination MAC, source MAC, EtherType. */

export const ETHERNET_HEADER_LENGTH = 14;

export const enum EtherType {
  Ipv4 = 0x0800,
  Ipv6 = 0x86dd,
}

export interface EthernetHeader {
  readonly destination: Buffer;
  readonly source: Buffer;
  readonly etherType: number;
}

/** Writes the header at `offset`; returns the offset after it. MACs are 6 bytes each. */
export function writeEthernetHeader(buf: Buffer, offset: number, header: EthernetHeader): number {
  header.destination.copy(buf, offset, 0, 6);
  header.source.copy(buf, offset + 6, 0, 6);
  buf.writeUInt16BE(header.etherType, offset + 12);
  return offset + ETHERNET_HEADER_LENGTH;
}

/** Reads the header at `offset`; throws when the frame is too short to hold one. */
export function parseEthernetHeader(buf: Buffer, offset = 0): EthernetHeader {
  if (buf.length - offset < ETHERNET_HEADER_LENGTH) {
    throw new Error(`while parsing Ethernet at offset ${offset}: ${buf.length - offset} bytes, need ${ETHERNET_HEADER_LENGTH}`);
  }
  return {
    destination: buf.subarray(offset, offset + 6),
    source: buf.subarray(offset + 6, offset + 12),
    etherType: buf.readUInt16BE(offset + 12),
  };
}

/**
 * A deterministic locally administered unicast MAC (first octet 0x02) made
 * from any bytes, so a host keeps the same MAC across flows and runs.
 */
export function localMac(seed: Buffer, salt = 0): Buffer {
  const mac = Buffer.alloc(6);
  mac[0] = 0x02;
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (const byte of seed) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  mac.writeUInt32BE(h, 1);
  mac[5] = (h ^ (h >>> 8) ^ salt) & 0xff;
  return mac;
}
