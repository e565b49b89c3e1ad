/**
 * Hand-made, valid TCP conversations for the wire export tests: Ethernet +
 * IPv4/IPv6 + TCP with correct checksums, split as the synthesiser splits them
 * (header, payload). Built here so the tests do not depend on the synthesiser.
 */
import type { Packet } from '../../stitcher/packet/packet.js';
import { parseAddress } from '../../stitcher/flow/cidr.js';
import { referenceChecksum } from '../support/reference-checksum.js';

export interface Endpoints {
  readonly client: string;
  readonly server: string;
  readonly clientPort: number;
  readonly serverPort: number;
}

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

/**
 * A whole HTTP/1.1 exchange: handshake, GET `path`, a 200 response carrying
 * `body`, segmented at `maxSegmentPayload`, then FIN both ways.
 */
export function httpConversation(endpoints: Endpoints, path: string, body: Buffer, maxSegmentPayload: number, startNs = 1_700_000_000_000_000_000n): Packet[] {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: test.example\r\nUser-Agent: cloudtap-test\r\n\r\n`);
  const response = Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
  ]);
  const c2s = { src: endpoints.client, dst: endpoints.server, srcPort: endpoints.clientPort, dstPort: endpoints.serverPort };
  const s2c = { src: endpoints.server, dst: endpoints.client, srcPort: endpoints.serverPort, dstPort: endpoints.clientPort };
  let clientSeq = 1000;
  let serverSeq = 5000;
  let ts = startNs;
  const next = (): bigint => (ts += 100_000n);
  const packets: Packet[] = [];
  packets.push(tcpPacket({ ...c2s, seq: clientSeq++, ack: 0, flags: SYN, tsNs: next() }));
  packets.push(tcpPacket({ ...s2c, seq: serverSeq++, ack: clientSeq, flags: SYN | ACK, tsNs: next() }));
  packets.push(tcpPacket({ ...c2s, seq: clientSeq, ack: serverSeq, flags: ACK, tsNs: next() }));
  for (let at = 0; at < request.length; at += maxSegmentPayload) {
    const payload = request.subarray(at, at + maxSegmentPayload);
    packets.push(tcpPacket({ ...c2s, seq: clientSeq, ack: serverSeq, flags: ACK | PSH, payload, tsNs: next() }));
    clientSeq += payload.length;
  }
  for (let at = 0; at < response.length; at += maxSegmentPayload) {
    const payload = response.subarray(at, at + maxSegmentPayload);
    packets.push(tcpPacket({ ...s2c, seq: serverSeq, ack: clientSeq, flags: ACK | PSH, payload, tsNs: next() }));
    serverSeq += payload.length;
  }
  packets.push(tcpPacket({ ...c2s, seq: clientSeq++, ack: serverSeq, flags: FIN | ACK, tsNs: next() }));
  packets.push(tcpPacket({ ...s2c, seq: serverSeq++, ack: clientSeq, flags: FIN | ACK, tsNs: next() }));
  packets.push(tcpPacket({ ...c2s, seq: clientSeq, ack: serverSeq, flags: ACK, tsNs: next() }));
  return packets;
}

export interface TcpSegment {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload?: Buffer;
  readonly tsNs: bigint;
}

export function tcpPacket(segment: TcpSegment): Packet {
  const src = parseAddress(segment.src);
  const dst = parseAddress(segment.dst);
  const payload = segment.payload ?? Buffer.alloc(0);
  const v4 = src.length === 4;
  const ipLength = v4 ? 20 : 40;
  const header = Buffer.alloc(14 + ipLength + 20);
  // Locally administered MACs, the same for every frame.
  Buffer.from('020000000002020000000001', 'hex').copy(header, 0);
  header.writeUInt16BE(v4 ? 0x0800 : 0x86dd, 12);
  const ip = header.subarray(14, 14 + ipLength);
  const tcpLength = 20 + payload.length;
  if (v4) {
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + tcpLength, 2);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(referenceChecksum(ip), 10);
  } else {
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(tcpLength, 4);
    ip[6] = 6;
    ip[7] = 64;
    src.copy(ip, 8);
    dst.copy(ip, 24);
  }
  const tcp = header.subarray(14 + ipLength);
  tcp.writeUInt16BE(segment.srcPort, 0);
  tcp.writeUInt16BE(segment.dstPort, 2);
  tcp.writeUInt32BE(segment.seq >>> 0, 4);
  tcp.writeUInt32BE(segment.ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = segment.flags;
  tcp.writeUInt16BE(65535, 14);
  const pseudo = Buffer.alloc(src.length * 2 + 8);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  pseudo.writeUInt32BE(tcpLength, src.length * 2);
  pseudo[pseudo.length - 1] = 6;
  const checksum = referenceChecksum(Buffer.concat([pseudo, tcp, payload]));
  tcp.writeUInt16BE(checksum, 16);
  return { tsNs: segment.tsNs, header, payload };
}
