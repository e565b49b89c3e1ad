import { expect } from 'chai';
import { innerFlowHash, tunnelSourcePort } from '../../stitcher/export/flow-hash.js';
import { tcpPacket } from './wire-frames.js';

function frame(src: string, dst: string, srcPort: number, dstPort: number): Buffer {
  return tcpPacket({ src, dst, srcPort, dstPort, seq: 1, ack: 0, flags: 0x02, tsNs: 0n }).header;
}

describe('export/flow-hash', () => {
  it('is the same for both directions of a flow, IPv4 and IPv6', () => {
    expect(innerFlowHash(frame('10.0.0.1', '10.0.0.2', 1234, 80))).to.equal(innerFlowHash(frame('10.0.0.2', '10.0.0.1', 80, 1234)));
    expect(innerFlowHash(frame('fd00::1', 'fd00::2', 1234, 443))).to.equal(innerFlowHash(frame('fd00::2', 'fd00::1', 443, 1234)));
  });

  it('changes with every element of the 5-tuple', () => {
    const base = innerFlowHash(frame('10.0.0.1', '10.0.0.2', 1234, 80));
    const variants = [
      frame('10.0.0.3', '10.0.0.2', 1234, 80),
      frame('10.0.0.1', '10.0.0.4', 1234, 80),
      frame('10.0.0.1', '10.0.0.2', 1235, 80),
      frame('10.0.0.1', '10.0.0.2', 1234, 81),
      frame('fd00::1', 'fd00::2', 1234, 80),
    ].map(innerFlowHash);
    for (const hash of variants) expect(hash).to.not.equal(base);
    expect(new Set(variants).size).to.equal(variants.length);
  });

  it('spreads 1000 flows over most of 64 ports, all in 49152-65535', () => {
    const ports = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const port = tunnelSourcePort(innerFlowHash(frame('10.0.0.1', '10.0.0.2', 10_000 + i, 443)), 64);
      expect(port).to.be.within(49152, 65535);
      ports.add(port);
    }
    expect(ports.size).to.be.at.least(60);
    expect(tunnelSourcePort(0xffffffff, 16384)).to.be.at.most(65535);
  });

  it('sees through an 802.1Q tag', () => {
    const plain = frame('10.0.0.1', '10.0.0.2', 1234, 80);
    const tagged = Buffer.concat([plain.subarray(0, 12), Buffer.from('81000064', 'hex'), plain.subarray(12)]);
    expect(innerFlowHash(tagged)).to.equal(innerFlowHash(plain));
  });
});
