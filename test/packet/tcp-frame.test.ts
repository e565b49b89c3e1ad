import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { internetChecksum } from '../../stitcher/packet/checksum.js';
import { localMac, parseEthernetHeader } from '../../stitcher/packet/ethernet.js';
import { HeaderSlab } from '../../stitcher/packet/header-slab.js';
import { parseIpv4Header } from '../../stitcher/packet/ipv4.js';
import { parseIpv6Header } from '../../stitcher/packet/ipv6.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { parseTcpHeader, TcpFlags, type TcpFields } from '../../stitcher/packet/tcp.js';
import { PacketBuilder, TcpPath } from '../../stitcher/packet/tcp-frame.js';

describe('packet/tcp-frame', () => {
  const macs = { sourceMac: localMac(Buffer.from('host')), destinationMac: localMac(Buffer.from('router')) };
  const ack = (seq: number): TcpFields => ({ sourcePort: 1, destinationPort: 2, seq, ack: 6, flags: TcpFlags.ACK, window: 100 });

  function headerOf(path: TcpPath, tcp: TcpFields, payload: Buffer): Buffer {
    const header = Buffer.alloc(path.headerLength(tcp));
    expect(path.writeHeaders(header, 0, tcp, payload)).to.equal(header.length);
    return header;
  }

  it('builds IPv4 frames whose IP checksum verifies, with IDs rising by one per packet', () => {
    const path = new TcpPath({ ipVersion: 4, ...macs, sourceIp: Buffer.from([10, 0, 0, 1]), destinationIp: Buffer.from([10, 0, 0, 2]), firstIpId: 0xfffe });
    const ids: number[] = [];
    for (const size of [0, 1, 1460, 77]) {
      const payload = randomBytes(size);
      const header = headerOf(path, ack(5), payload);
      expect(parseEthernetHeader(header).source).to.deep.equal(macs.sourceMac);
      const ip = parseIpv4Header(header, 14);
      expect(internetChecksum(header, 14, 34)).to.equal(0);
      expect(ip.totalLength).to.equal(20 + 20 + size);
      expect(parseTcpHeader(header, 34)).to.include({ seq: 5, ack: 6, sourcePort: 1 });
      ids.push(ip.identification);
    }
    expect(ids).to.deep.equal([0xfffe, 0xffff, 0, 1]);
  });

  it('writes a whole frame in place: the headers a Packet would carry, then the payload, the TCP checksum over both', () => {
    const ends = { ipVersion: 4 as const, ...macs, sourceIp: Buffer.from([10, 0, 0, 1]), destinationIp: Buffer.from([10, 0, 0, 2]) };
    const payload = randomBytes(1001);
    const expected = headerOf(new TcpPath(ends), ack(9), payload);
    const target = Buffer.alloc(7 + expected.length + payload.length + 3, 0xee);
    const path = new TcpPath(ends);
    expect(path.headerLength(ack(9))).to.equal(expected.length);
    path.writeFrame(target, 7, ack(9), payload);
    expect(target.subarray(7, 7 + expected.length)).to.deep.equal(expected);
    expect(target.subarray(7 + expected.length, 7 + expected.length + payload.length)).to.deep.equal(payload);
    expect([...target.subarray(0, 7), ...target.subarray(-3)]).to.deep.equal(new Array(10).fill(0xee));
    const tcpSegment = target.subarray(7 + 34, 7 + expected.length + payload.length);
    const pseudo = Buffer.concat([ends.sourceIp, ends.destinationIp, Buffer.from([0, 6, tcpSegment.length >> 8, tcpSegment.length & 0xff])]);
    expect(internetChecksum(Buffer.concat([pseudo, tcpSegment]))).to.equal(0);
  });

  it('builds IPv6 Packets with the payload length of each, headers in the slab not overwritten by later ones', () => {
    const path = new TcpPath({ ipVersion: 6, ...macs, sourceIp: Buffer.alloc(16, 1), destinationIp: Buffer.alloc(16, 2) });
    const packets: Packet[] = [];
    const builder = new PacketBuilder((packet) => packets.push(packet), new HeaderSlab(128));
    builder.segment(1n, path, { sourcePort: 1, destinationPort: 2, seq: 0, ack: 0, flags: TcpFlags.SYN, window: 65535, synOptions: { mss: 1440, windowScale: 7, sackPermitted: true } }, Buffer.alloc(0), 0, 0);
    builder.segment(2n, path, { ...ack(1), window: 65535 }, Buffer.alloc(1000), 0, 1000);
    builder.segment(3n, path, { ...ack(1001), window: 65535 }, Buffer.alloc(10), 0, 10);
    const [syn, data] = packets.map((packet) => packet.header);
    expect(parseIpv6Header(syn!, 14).payloadLength).to.equal(32);
    expect(parseIpv6Header(data!, 14).payloadLength).to.equal(1020);
    expect(parseTcpHeader(syn!, 54).synOptions).to.deep.equal({ mss: 1440, windowScale: 7, sackPermitted: true });
    expect(packets.map((packet) => packet.tsNs)).to.deep.equal([1n, 2n, 3n]);
  });

  it('a segment given as a range of a larger payload is the frame of that range as a buffer of its own', () => {
    const ends = { ipVersion: 4 as const, ...macs, sourceIp: Buffer.from([10, 0, 0, 1]), destinationIp: Buffer.from([10, 0, 0, 2]) };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 9 }), (bytes, a, b, at) => {
      const payload = Buffer.from(bytes);
      const start = payload.length === 0 ? 0 : a % (payload.length + 1);
      const end = start + (payload.length === 0 ? 0 : b % (payload.length - start + 1));
      const own = Buffer.from(payload.subarray(start, end));
      const length = new TcpPath(ends).headerLength(ack(3)) + own.length;
      const fromRange = Buffer.alloc(at + length);
      const fromOwn = Buffer.alloc(at + length);
      new TcpPath(ends).writeFrame(fromRange, at, ack(3), payload, start, end);
      new TcpPath(ends).writeFrame(fromOwn, at, ack(3), own);
      const packets: Packet[] = [];
      new PacketBuilder((packet) => packets.push(packet)).segment(1n, new TcpPath(ends), ack(3), payload, start, end);
      const built = Buffer.concat([packets[0]!.header, packets[0]!.payload]);
      return fromRange.equals(fromOwn) && built.equals(fromOwn.subarray(at));
    }), { numRuns: 300 });
  });
});
