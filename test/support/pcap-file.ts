/** Test-only: packets to a nanosecond pcap file (magic 0xa1b23c4d, linktype 1 Ethernet) for tshark. */
import { writeFileSync } from 'node:fs';
import type { Packet } from '../../stitcher/packet/packet.js';

export function pcapBytes(packets: readonly Packet[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const parts: Buffer[] = [header];
  for (const packet of packets) {
    const record = Buffer.alloc(16);
    const length = packet.header.length + packet.payload.length;
    record.writeUInt32LE(Number(packet.tsNs / 1_000_000_000n), 0);
    record.writeUInt32LE(Number(packet.tsNs % 1_000_000_000n), 4);
    record.writeUInt32LE(length, 8);
    record.writeUInt32LE(length, 12);
    parts.push(record, packet.header, packet.payload);
  }
  return Buffer.concat(parts);
}

export function writePcapFile(path: string, packets: readonly Packet[]): void {
  writeFileSync(path, pcapBytes(packets));
}

/** Copies a packet out of shared buffers (headers come from a reused slab, payloads are views). */
export function keepPacket(packet: Packet): Packet {
  return { tsNs: packet.tsNs, header: Buffer.from(packet.header), payload: Buffer.from(packet.payload) };
}
