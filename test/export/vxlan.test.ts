import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vxlanHeader } from '../../stitcher/export/vxlan.js';
import type { SentCapture, TestFlow, TunnelCapture } from './tunnel-judge.js';
import { capturedRows, captureThroughSink, describeTunnelChecks, testFlows } from './tunnel-judge.js';

const port = 24789;
const mtu = 1400;
const vni = 4242;

describe('export/vxlan', function () {
  this.timeout(60_000);
  let folder: string;
  let capture: TunnelCapture;
  let sent: SentCapture;
  const flows: TestFlow[] = testFlows();

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wire-vxlan-'));
    capture = { file: join(folder, 'vxlan.pcap'), protocol: 'vxlan', port };
    sent = await captureThroughSink(`vxlan://127.0.0.1:${port}?vni=${vni}&mtu=${mtu}&ports=16384`, capture, flows);
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('builds the RFC 7348 header: I flag and the 24-bit VNI', () => {
    expect([...vxlanHeader(0xabcdef)]).to.deep.equal([0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0]);
  });

  it('sends every packet without an error, and the peer gets them all', () => {
    expect(sent.stats.sendErrors, JSON.stringify(sent.stats.errorsByCode)).to.equal(0);
    expect(sent.stats.packets).to.equal(sent.sent);
    expect(sent.received).to.equal(sent.sent);
  });

  it('is decoded by tshark as VXLAN with the I flag and our VNI', async () => {
    const rows = await capturedRows(capture, ['vxlan.vni', 'vxlan.flags']);
    expect(rows.length).to.equal(sent.sent);
    for (const [packetVni, flags] of rows) {
      expect(Number(packetVni)).to.equal(vni);
      expect(Number(flags) & 0x0800).to.equal(0x0800);
    }
  });

  describeTunnelChecks(() => ({ capture, flows, mtu, folder }));
});
