import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { internetChecksum } from '../../stitcher/packet/checksum.js';
import { localMac, parseEthernetHeader } from '../../stitcher/packet/ethernet.js';
import { HeaderSlab } from '../../stitcher/packet/header-slab.js';
import { parseIpv4Header } from '../../stitcher/packet/ipv4.js';
import { parseIpv6Header } from '../../stitcher/packet/ipv6.js';
import { parseTcpHeader, TcpFlags } from '../../stitcher/packet/tcp.js';
import { TcpPath } from '../../stitcher/packet/tcp-frame.js';

describe('packet/tcp-frame', () => {
  const macs = { sourceMac: localMac(Buffer.from('host')), destinationMac: localMac(Buffer.from('router')) };

  it('builds IPv4 frames whose IP checksum verifies, with IDs rising by one per packet', () => {
    const path = new TcpPath({ ipVersion: 4, ...macs, sourceIp: Buffer.from([10, 0, 0, 1]), destinationIp: Buffer.from([10, 0, 0, 2]), firstIpId: 0xfffe }, new HeaderSlab(100));
    const ids: number[] = [];
    for (const size of [0, 1, 1460, 77]) {
      const payload = randomBytes(size);
      const header = path.header({ sourcePort: 1, destinationPort: 2, seq: 5, ack: 6, flags: TcpFlags.ACK, window: 100 }, payload);
      expect(parseEthernetHeader(header).source.equals(macs.sourceMac)).to.equal(true);
      const ip = parseIpv4Header(header, 14);
      expect(internetChecksum(header, 14, 34)).to.equal(0);
      expect(ip.totalLength).to.equal(20 + 20 + size);
      expect(parseTcpHeader(header, 34)).to.include({ seq: 5, ack: 6, sourcePort: 1 });
      ids.push(ip.identification);
    }
    expect(ids).to.deep.equal([0xfffe, 0xffff, 0, 1]);
  });

  it('builds IPv6 frames with the payload length of each packet, headers not overwritten by later ones', () => {
    const path = new TcpPath({ ipVersion: 6, ...macs, sourceIp: Buffer.alloc(16, 1), destinationIp: Buffer.alloc(16, 2) }, new HeaderSlab(128));
    const syn = path.header({ sourcePort: 1, destinationPort: 2, seq: 0, ack: 0, flags: TcpFlags.SYN, window: 65535, synOptions: { mss: 1440, windowScale: 7, sackPermitted: true } }, Buffer.alloc(0));
    const data = path.header({ sourcePort: 1, destinationPort: 2, seq: 1, ack: 0, flags: TcpFlags.ACK, window: 65535 }, Buffer.alloc(1000));
    path.header({ sourcePort: 1, destinationPort: 2, seq: 1001, ack: 0, flags: TcpFlags.ACK, window: 65535 }, Buffer.alloc(10));
    expect(parseIpv6Header(syn, 14).payloadLength).to.equal(32);
    expect(parseIpv6Header(data, 14).payloadLength).to.equal(1020);
    expect(parseTcpHeader(syn, 54).synOptions).to.deep.equal({ mss: 1440, windowScale: 7, sackPermitted: true });
  });
});
