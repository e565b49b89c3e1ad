import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { internetChecksum } from '../../stitcher/packet/checksum.js';
import { ETHERNET_HEADER_LENGTH, localMac, parseEthernetHeader, writeEthernetHeader } from '../../stitcher/packet/ethernet.js';
import { IPV4_HEADER_LENGTH, ipv4PseudoHeaderSum, parseIpv4Header, writeIpv4Header } from '../../stitcher/packet/ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6PseudoHeaderSum, parseIpv6Header, writeIpv6Header } from '../../stitcher/packet/ipv6.js';
import { parseTcpHeader, TcpFlags, tcpHeaderLength, writeTcpHeader, type TcpFields } from '../../stitcher/packet/tcp.js';

const v4a = Buffer.from([10, 1, 2, 3]);
const v4b = Buffer.from([192, 0, 2, 200]);
const v6a = Buffer.from('20010db8000000000000000000000001', 'hex');
const v6b = Buffer.from('20010db80000000000000000000000ff', 'hex');

/** The TCP checksum computed independently: pseudo-header, header and payload concatenated. */
function tcpChecksumOverAll(src: Buffer, dst: Buffer, segment: Buffer): number {
  const pseudo = src.length === 4 ? Buffer.alloc(12) : Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  if (src.length === 4) {
    pseudo[9] = 6;
    pseudo.writeUInt16BE(segment.length, 10);
  } else {
    pseudo.writeUInt32BE(segment.length, 32);
    pseudo[39] = 6;
  }
  return internetChecksum(Buffer.concat([pseudo, segment]));
}

describe('packet/ethernet', () => {
  it('writes and parses the header', () => {
    const buf = Buffer.alloc(ETHERNET_HEADER_LENGTH);
    const source = localMac(Buffer.from('a'));
    const destination = localMac(Buffer.from('b'));
    expect(writeEthernetHeader(buf, 0, { source, destination, etherType: 0x86dd })).to.equal(14);
    const parsed = parseEthernetHeader(buf);
    expect(parsed.source).to.deep.equal(source);
    expect(parsed.destination).to.deep.equal(destination);
    expect(parsed.etherType).to.equal(0x86dd);
  });

  it('makes deterministic, locally administered unicast MACs that differ by seed', () => {
    const a = localMac(v4a);
    expect(a).to.deep.equal(localMac(v4a));
    expect(a).to.not.deep.equal(localMac(v4b));
    expect(a[0]! & 0x02).to.equal(0x02);
    expect(a[0]! & 0x01).to.equal(0);
  });

  it('refuses a frame too short to hold a header', () => {
    expect(() => parseEthernetHeader(Buffer.alloc(13))).to.throw(/Ethernet at offset 0: 13 bytes/);
  });
});

describe('packet/ipv4', () => {
  it('builds a header with DF, TTL 64 and a checksum that verifies', () => {
    const buf = Buffer.alloc(IPV4_HEADER_LENGTH + 4);
    const end = writeIpv4Header(buf, 4, { source: v4a, destination: v4b, payloadLength: 100, identification: 0x1234, protocol: 6 });
    expect(end).to.equal(24);
    expect(internetChecksum(buf, 4, 24)).to.equal(0);
    const parsed = parseIpv4Header(buf, 4);
    expect(parsed).to.include({ headerLength: 20, totalLength: 120, payloadLength: 100, identification: 0x1234, ttl: 64, protocol: 6, dontFragment: true });
    expect(parsed.source).to.deep.equal(v4a);
    expect(parsed.destination).to.deep.equal(v4b);
  });

  it('refuses a total length over 65535 and a header of another version', () => {
    expect(() => writeIpv4Header(Buffer.alloc(20), 0, { source: v4a, destination: v4b, payloadLength: 65516, identification: 0, protocol: 6 }))
      .to.throw(/total length 65536/);
    expect(() => parseIpv4Header(Buffer.alloc(20, 0x60))).to.throw(/version is 6/);
  });
});

describe('packet/ipv6', () => {
  it('writes and parses the fixed header', () => {
    const buf = Buffer.alloc(IPV6_HEADER_LENGTH);
    writeIpv6Header(buf, 0, { source: v6a, destination: v6b, payloadLength: 1234, nextHeader: 6, flowLabel: 0xabcde });
    const parsed = parseIpv6Header(buf);
    expect(parsed).to.include({ payloadLength: 1234, nextHeader: 6, hopLimit: 64, flowLabel: 0xabcde });
    expect(parsed.source).to.deep.equal(v6a);
    expect(parsed.destination).to.deep.equal(v6b);
  });
});

describe('packet/tcp', () => {
  const fields: TcpFields = { sourcePort: 51000, destinationPort: 443, seq: 0xfffffff0, ack: 7, flags: TcpFlags.ACK | TcpFlags.PSH, window: 512 };

  for (const [name, src, dst, pseudo] of [
    ['IPv4', v4a, v4b, ipv4PseudoHeaderSum(v4a, v4b, 6)],
    ['IPv6', v6a, v6b, ipv6PseudoHeaderSum(v6a, v6b, 6)],
  ] as const) {
    for (const payloadLength of [0, 1, 1459, 1460]) {
      it(`has a checksum that verifies over the ${name} pseudo-header with ${payloadLength} payload bytes`, () => {
        const payload = randomBytes(payloadLength);
        const header = Buffer.alloc(tcpHeaderLength(fields));
        writeTcpHeader(header, 0, fields, pseudo, payload);
        expect(tcpChecksumOverAll(src, dst, Buffer.concat([header, payload]))).to.equal(0);
      });
    }
  }

  it('writes SYN options that parse back, and the checksum covers them', () => {
    const syn: TcpFields = { ...fields, flags: TcpFlags.SYN, synOptions: { mss: 1440, windowScale: 7, sackPermitted: true } };
    const header = Buffer.alloc(tcpHeaderLength(syn));
    expect(header.length).to.equal(32);
    writeTcpHeader(header, 0, syn, ipv4PseudoHeaderSum(v4a, v4b, 6), Buffer.alloc(0));
    expect(tcpChecksumOverAll(v4a, v4b, header)).to.equal(0);
    const parsed = parseTcpHeader(header);
    expect(parsed).to.include({ sourcePort: 51000, destinationPort: 443, seq: 0xfffffff0, ack: 7, flags: TcpFlags.SYN, headerLength: 32 });
    expect(parsed.synOptions).to.deep.equal({ mss: 1440, windowScale: 7, sackPermitted: true });
  });

  it('refuses an option whose length runs past the header', () => {
    const header = Buffer.alloc(24);
    header[12] = 6 << 4;
    header[20] = 2;
    header[21] = 9;
    expect(() => parseTcpHeader(header)).to.throw(/option 2 has length 9/);
  });
});
