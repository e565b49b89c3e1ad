import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geneveHeader, protocolTransparentEthernet } from '../../stitcher/export/geneve.js';
import type { SentCapture, TestFlow, TunnelCapture } from './tunnel-judge.js';
import { capturedRows, captureThroughSink, describeTunnelChecks, testFlows } from './tunnel-judge.js';

const vni = 777;

describe('export/geneve', function () {
  this.timeout(60_000);
  let folder: string;
  const flows: TestFlow[] = testFlows();

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wire-geneve-'));
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('builds the RFC 8926 header: version 0, option length in words, protocol, VNI, options', () => {
    const header = geneveHeader(0x123456, protocolTransparentEthernet, [
      { optionClass: 0x0108, type: 0x81, data: Buffer.from('deadbeef', 'hex') },
    ]);
    expect(header.toString('hex')).to.equal('02' + '00' + '6558' + '123456' + '00' + '0108' + '81' + '01' + 'deadbeef');
    expect(() => geneveHeader(1, 0x6558, [{ optionClass: 1, type: 1, data: Buffer.alloc(3) }])).to.throw(/multiple of 4/);
  });

  describe('inner Ethernet (0x6558) with an option TLV', () => {
    const port = 26081;
    const mtu = 1500;
    let capture: TunnelCapture;
    let sent: SentCapture;

    before(async () => {
      capture = { file: join(folder, 'geneve-eth.pcap'), protocol: 'geneve', port };
      sent = await captureThroughSink(`geneve://127.0.0.1:${port}?vni=${vni}&opt=0x0108:0x01:0000002a&ports=16384`, capture, flows);
    });

    it('is decoded by tshark as GENEVE with our VNI, protocol and option', async () => {
      expect(sent.stats.sendErrors).to.equal(0);
      expect(sent.received).to.equal(sent.sent);
      const rows = await capturedRows(capture, ['geneve.vni', 'geneve.proto_type', 'geneve.option.class', 'geneve.option.type', 'geneve.option.unknown.data']);
      expect(rows.length).to.equal(sent.sent);
      for (const [packetVni, protocol, optionClass, optionType, optionData] of rows) {
        expect(Number(packetVni)).to.equal(vni);
        expect(Number(protocol)).to.equal(0x6558);
        expect(Number(optionClass)).to.equal(0x0108);
        expect(Number(optionType)).to.equal(0x01);
        expect(optionData?.replace(/:/g, '')).to.equal('0000002a');
      }
    });

    describeTunnelChecks(() => ({ capture, flows, mtu, folder }));
  });

  describe('inner=ip (0x0800 / 0x86DD, as AWS Gateway Load Balancer)', () => {
    const port = 26082;
    const mtu = 9001;
    let capture: TunnelCapture;
    let sent: SentCapture;

    before(async () => {
      capture = { file: join(folder, 'geneve-ip.pcap'), protocol: 'geneve', port };
      sent = await captureThroughSink(`geneve://127.0.0.1:${port}?vni=${vni}&inner=ip&mtu=${mtu}&ports=16384`, capture, flows);
    });

    it('carries bare IP packets with the matching protocol type', async () => {
      expect(sent.stats.sendErrors).to.equal(0);
      expect(sent.received).to.equal(sent.sent);
      const rows = await capturedRows(capture, ['geneve.proto_type', 'ipv6.src', 'eth.type']);
      expect(rows.length).to.equal(sent.sent);
      for (const [protocol, ipv6Source, etherTypes] of rows) {
        // Only the outer (loopback) Ethernet header: none inside the tunnel.
        expect(etherTypes!.split(',')).to.have.length(1);
        expect(Number(protocol)).to.equal(ipv6Source ? 0x86dd : 0x0800);
      }
    });

    describeTunnelChecks(() => ({ capture, flows, mtu, folder }));
  });
});
