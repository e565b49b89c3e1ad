/**
 * Several outputs at once through the CLI, as a sensor deployment runs it:
 * VXLAN to a sensor on loopback (captured by tcpdump, judged by tshark) and a
 * remapped pcapng file, with --select applied to both.
 */
import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtapOk } from '../support/cli.js';
import { onPath } from '../support/run.js';
import { exportedObjectHashes, haveTshark, tsharkFields } from '../support/tshark.js';
import { startCapture } from '../export/wire-capture.js';
import { expectCleanCapture } from './capture-judge.js';

const VXLAN_PORT = 24899;

describe('e2e: VXLAN and a remapped pcapng at once, with --select', function () {
  this.timeout(180_000);

  it('sends every selected flow whole over VXLAN within the MTU and writes the remapped file', async function () {
    if (!haveTshark() || !onPath('tcpdump')) this.skip();
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-wire-'));
    const bucket = join(dir, 'bucket');
    const result = await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 16, gateways: 2, seed: 'wire', httpsShare: 0.4, h2Share: 0, bodyBytes: 400_000, objectBytes: 128 * 1024, shuffle: true, scatterShare: 0.25 });
    const sensor = createSocket('udp4');
    await new Promise<void>((resolve) => sensor.bind(VXLAN_PORT, '127.0.0.1', resolve));
    const wire = join(dir, 'wire.pcap');
    const capture = await startCapture(wire, `udp port ${VXLAN_PORT}`);
    const file = join(dir, 'remapped.pcapng');
    let stdout: string;
    let dropped: number;
    try {
      ({ stdout } = await cloudtapOk(['stitch', '--source', `file://${bucket}`, '--once', '--quiet', '--select', 'port=80',
        '--output', `vxlan://127.0.0.1:${VXLAN_PORT}?vni=4242&mtu=1400&rate=40`,
        '--output', `pcapng://${file}?remap=client:100.64.0.0/10&remap=server:fd00:5::/64`]));
    } finally {
      sensor.close();
      dropped = await capture.stop();
    }
    expect(dropped, 'packets the kernel dropped').to.equal(0);
    const plain = result.flows.filter((flow) => flow.protocol === 'http');
    expect(stdout).to.match(new RegExp(`selected\\s+${plain.length} flows; left out 0 by user, ${result.flows.length - plain.length} by port`));

    const decode = ['-d', `udp.port==${VXLAN_PORT},vxlan`];
    const outer = await tsharkFields(wire, '', ['frame.len', 'vxlan.vni', 'udp.srcport', 'ip.flags.mf'], { prefs: [] , extraArgs: decode });
    expect(outer.length).to.be.greaterThan(100);
    expect(Math.max(...outer.map(([len]) => Number(len))), 'largest outer frame: MTU + 14').to.be.at.most(1414);
    expect(new Set(outer.map(([, vni]) => vni))).to.deep.equal(new Set(['4242']));
    expect(outer.filter(([, , , mf = '']) => mf.split(',').some((flag) => flag !== '0' && flag !== 'False')), 'IP fragments').to.deep.equal([]);
    const syns = await tsharkFields(wire, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['tcp.srcport'], { extraArgs: decode });
    expect(syns.length).to.equal(plain.length);
    const expected = plain.flatMap((flow) => flow.objects.map((o) => o.sha256)).sort();
    expect(await exportedObjectHashes(wire, 'http', { extraArgs: decode })).to.deep.equal(expected);
    await expectCleanCapture(wire, { ...result, flows: plain }, { extraArgs: decode });

    const clients = await tsharkFields(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst']);
    expect(clients.length).to.equal(plain.length);
    for (const [src4, src6, , dst6] of clients) {
      if (src4 !== '') expect(src4, 'IPv4 client remapped into 100.64.0.0/10').to.match(/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./);
      else expect(src6, 'IPv6 client kept').to.match(/^fd/);
      if (dst6 !== '' && dst6 !== undefined) expect(dst6, 'IPv6 server remapped into fd00:5::/64').to.match(/^fd00:5::/);
    }
  });
});
