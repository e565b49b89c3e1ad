/**
 * A synthesised packet on its way to the exporters. The frame is split in two so
 * that a payload can go from the decoded CTAP block to the output buffer with one
 * copy: `header` holds Ethernet + IP + TCP, `payload` the TCP payload (may be empty).
 */
export interface Packet {
  /** Capture time, nanoseconds since the Unix epoch. */
  readonly tsNs: bigint;
  readonly header: Buffer;
  readonly payload: Buffer;
}

export function packetLength(packet: Packet): number {
  return packet.header.length + packet.payload.length;
}
