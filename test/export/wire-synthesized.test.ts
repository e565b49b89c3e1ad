/**
 * The wire path as the pipeline wires it: FLOW_OPEN remapped, the synthesiser
 * sizing segments with the sink's maxSegmentPayload, the VXLAN sink sending.
 * tshark judges the result: checksums over the remapped addresses, the MTU, the
 * HTTP object.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseReason, Direction, RecordType } from '../../stitcher/format/records.js';
import type { FlowOpenRecord } from '../../stitcher/format/records.js';
import type { FlowIdentity } from '../../stitcher/flow/events.js';
import { TcpSynthesizer } from '../../stitcher/flow/tcp-synthesizer.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { createRemapper } from '../../stitcher/export/remap.js';
import { openWireOutput } from '../../stitcher/export/wire-output.js';
import { parseWireUrl } from '../../stitcher/export/wire-url.js';
import { cidrContains, parseAddress, parseCidr } from '../../stitcher/flow/cidr.js';
import { startCapture } from './wire-capture.js';
import type { TunnelCapture } from './tunnel-judge.js';
import { capturedRows, exportedHttpObjects, sendAll } from './tunnel-judge.js';
import { sha256 } from '../support/sha.js';

const port = 24790;
const mtu = 1300;
const url = `vxlan://127.0.0.1:${port}?vni=9&mtu=${mtu}&remap=client:100.64.0.0/10&remap=server:fd00:99::/64`;

function flowOpen(n: number, client: string, server: string): FlowOpenRecord {
  const clientIp = parseAddress(client);
  return {
    type: RecordType.FlowOpen,
    flowId: Buffer.alloc(16, n),
    tsNs: 1_700_000_000_000_000_000n + BigInt(n),
    ipVersion: clientIp.length === 4 ? 4 : 6,
    l4: 6,
    clientIp,
    clientPort: 43000 + n,
    serverIp: parseAddress(server),
    serverPort: 80,
    tags: {},
  };
}

describe('export/wire with the synthesiser and remapping', function () {
  this.timeout(60_000);
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wire-synth-'));
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('sends remapped, MTU-sized, checksum-valid flows that tshark reassembles', async () => {
    const wire = parseWireUrl(url);
    const remapper = createRemapper(wire.remap)!;
    const capture: TunnelCapture = { file: join(folder, 'synth.pcap'), protocol: 'vxlan', port };
    // A peer that takes the datagrams, so the kernel sends no port-unreachable back.
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(port, '127.0.0.1', resolve));
    const tcpdump = await startCapture(capture.file, `udp port ${port}`);
    const sink = await openWireOutput(url);
    const bodies = [randomBytes(40_000), randomBytes(33_333)];
    const opens = [flowOpen(1, '10.3.0.1', '192.0.2.44'), flowOpen(2, 'fd00:3::1', '2001:db8::44')];
    for (const [i, original] of opens.entries()) {
      const open = remapper.remapOpen(original);
      const packets: Packet[] = [];
      const synthesizer = new TcpSynthesizer((packet) => packets.push(packet), { maxSegmentPayload: sink.maxSegmentPayload(open.ipVersion) });
      const flow: FlowIdentity = { key: open.flowId.toString('hex'), gateway: 'gw', open };
      const request = Buffer.from(`GET /s${i}.bin HTTP/1.1\r\nHost: x\r\n\r\n`);
      const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${bodies[i]!.length}\r\n\r\n`), bodies[i]!]);
      synthesizer.openFlow(flow);
      synthesizer.flowEvent(flow, { kind: 'data', dir: Direction.ClientToServer, tsNs: open.tsNs + 1000n, offset: 0n, payload: request });
      synthesizer.flowEvent(flow, { kind: 'data', dir: Direction.ServerToClient, tsNs: open.tsNs + 2000n, offset: 0n, payload: response });
      synthesizer.flowEvent(flow, { kind: 'close', tsNs: open.tsNs + 3000n, reason: CloseReason.FinFromClient });
      for (const packet of packets) if (!sink.write(packet)) await sink.drain();
    }
    await sendAll(sink, []);
    expect(await tcpdump.stop()).to.equal(0);
    peer.close();
    expect(sink.stats.sendErrors, JSON.stringify(sink.stats.errorsByCode)).to.equal(0);

    const bad = await capturedRows(capture, ['frame.number'], 'tcp.checksum.status != 1 || ip.checksum.status == 0 || !tcp');
    expect(bad, 'frames with a bad inner checksum').to.deep.equal([]);
    const lengths = (await capturedRows(capture, ['ip.len'])).map(([list]) => Number(list!.split(',')[0]));
    expect(Math.max(...lengths), "full segments fill the MTU, none exceeds it").to.equal(mtu);
    // Inner addresses: the second ip.src/ip.dst of an IPv4-in-VXLAN frame, or the ipv6 ones.
    const rows = await capturedRows(capture, ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst']);
    const innerV4 = new Set<string>();
    const innerV6 = new Set<string>();
    for (const [ipSources, ipDestinations, ipv6Source, ipv6Destination] of rows) {
      for (const list of [ipSources!, ipDestinations!]) if (list.includes(',')) innerV4.add(list.split(',')[1]!);
      for (const address of [ipv6Source!, ipv6Destination!]) if (address) innerV6.add(parseAddress(address).toString('hex'));
    }
    const v4 = [...innerV4].map(parseAddress);
    expect(v4).to.have.length(2);
    // Client remapped into 100.64.0.0/10; the server kept (no server rule for IPv4).
    expect(v4.filter((a) => cidrContains(parseCidr('100.64.0.0/10'), a))).to.have.length(1);
    expect(innerV4).to.include('192.0.2.44');
    const v6 = [...innerV6].map((hex) => Buffer.from(hex, 'hex'));
    expect(v6).to.have.length(2);
    // Server remapped into fd00:99::/64; the client kept (no client rule for IPv6).
    expect(v6.filter((a) => cidrContains(parseCidr('fd00:99::/64'), a))).to.have.length(1);
    expect(innerV6).to.include(parseAddress('fd00:3::1').toString('hex'));
    const objects = await exportedHttpObjects(capture);
    for (const body of bodies) expect(objects).to.include.keys(sha256(body));
  });
});
