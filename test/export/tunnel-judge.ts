/**
 * What the VXLAN and GENEVE tests ask of a capture, judged by tshark and
 * Suricata rather than by our own decoder.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Packet } from '../../stitcher/packet/packet.js';
import type { PacketSink } from '../../stitcher/export/sink.js';
import { openWireOutput } from '../../stitcher/export/wire-output.js';
import type { WireStats } from '../../stitcher/export/wire-sink.js';
import { parseAddress } from '../../stitcher/flow/cidr.js';
import { execFileAsync, startCapture } from './wire-capture.js';
import { sha256 } from '../support/sha.js';
import { exportedObjects, tsharkFields, type TsharkOptions } from '../support/tshark.js';
import type { Endpoints } from './wire-frames.js';
import { httpConversation } from './wire-frames.js';

export interface TunnelCapture {
  readonly file: string;
  readonly protocol: 'vxlan' | 'geneve';
  readonly port: number;
}

/** Writes every packet, honouring backpressure, then closes the sink. */
export async function sendAll(sink: PacketSink, packets: readonly Packet[]): Promise<void> {
  for (const packet of packets) {
    if (!sink.write(packet)) await sink.drain();
  }
  await sink.close();
}

/** Round-robin over the conversations, as flows interleave in a real stitch. */
export function interleave(conversations: readonly Packet[][]): Packet[] {
  const packets: Packet[] = [];
  const longest = Math.max(...conversations.map((conversation) => conversation.length));
  for (let i = 0; i < longest; i++) {
    for (const conversation of conversations) if (i < conversation.length) packets.push(conversation[i]!);
  }
  return packets;
}

/** tshark decodes the capture's UDP port as the tunnel (it checks IP and TCP checksums anyway). */
function decodeAs(capture: TunnelCapture): TsharkOptions {
  return { extraArgs: ['-d', `udp.port==${capture.port},${capture.protocol}`] };
}

/** One row per captured datagram: the fields asked for. */
export function capturedRows(capture: TunnelCapture, fields: string[], filter?: string): Promise<string[][]> {
  return tsharkFields(capture.file, filter ?? '', fields, decodeAs(capture));
}

/** `{ sha256 of body: file name }` of every HTTP object tshark reassembles from the capture. */
export async function exportedHttpObjects(capture: TunnelCapture): Promise<Map<string, string>> {
  const objects = await exportedObjects(capture.file, 'http', decodeAs(capture));
  return new Map(objects.map((object) => [sha256(object.bytes), object.name]));
}

export interface SuricataView {
  /** `src_ip src_port dest_ip dest_port` of every flow Suricata logged. */
  readonly flows: Set<string>;
  /** URLs of the HTTP transactions it parsed. */
  readonly urls: Set<string>;
  /** Sizes of the files it extracted from HTTP, by URL. */
  readonly fileSizes: Map<string, number>;
}

/** Runs Suricata 7 on the capture with its tunnel decoder on our port, no rules. */
export async function suricataView(capture: TunnelCapture, logFolder: string): Promise<SuricataView> {
  await mkdir(logFolder, { recursive: true });
  const portGroup = capture.protocol === 'vxlan' ? 'VXLAN_PORTS' : 'GENEVE_PORTS';
  await execFileAsync('suricata', [
    '-r', capture.file, '-k', 'none', '-l', logFolder, '-S', '/dev/null',
    '--set', `vars.port-groups.${portGroup}=${capture.port}`,
    '--set', `decoder.${capture.protocol}.enabled=true`,
  ]);
  const flows = new Set<string>();
  const urls = new Set<string>();
  const fileSizes = new Map<string, number>();
  const eve = await readFile(join(logFolder, 'eve.json'), 'utf8');
  for (const line of eve.split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as {
      event_type: string; src_ip?: string; src_port?: number; dest_ip?: string; dest_port?: number;
      http?: { url?: string }; fileinfo?: { size?: number };
    };
    if (event.event_type === 'flow') flows.add(`${event.src_ip} ${event.src_port} ${event.dest_ip} ${event.dest_port}`);
    if (event.event_type === 'http' && event.http?.url) urls.add(event.http.url);
    if (event.event_type === 'fileinfo' && event.http?.url && event.fileinfo?.size !== undefined) {
      fileSizes.set(event.http.url, event.fileinfo.size);
    }
  }
  return { flows, urls, fileSizes };
}

export interface TestFlow {
  readonly endpoints: Endpoints;
  readonly path: string;
  readonly body: Buffer;
}

/** Two IPv4 flows and one IPv6 flow, each one HTTP download. */
export function testFlows(): TestFlow[] {
  return [
    { endpoints: { client: '10.1.0.5', server: '192.0.2.80', clientPort: 40001, serverPort: 80 }, path: '/a.bin', body: randomBytes(30_000) },
    { endpoints: { client: '10.1.0.6', server: '192.0.2.80', clientPort: 40002, serverPort: 80 }, path: '/b.bin', body: randomBytes(12_345) },
    { endpoints: { client: 'fd00:1::5', server: '2001:db8::80', clientPort: 40003, serverPort: 80 }, path: '/c.bin', body: randomBytes(20_001) },
  ];
}

export interface SentCapture {
  readonly stats: WireStats;
  /** Datagrams the loopback peer received. */
  readonly received: number;
  readonly sent: number;
}

/**
 * Opens `url` (a tunnel to 127.0.0.1:capture.port), captures on lo while the
 * flows go through it, segmented at the sink's own maxSegmentPayload.
 */
export async function captureThroughSink(url: string, capture: TunnelCapture, flows: readonly TestFlow[]): Promise<SentCapture> {
  // A peer that takes the datagrams, so the kernel sends no port-unreachable back.
  // A large receive buffer: the sink sends a whole test's packets in one burst.
  const peer = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  let received = 0;
  peer.on('message', () => received++);
  await new Promise<void>((resolve) => peer.bind(capture.port, '127.0.0.1', resolve));
  try {
    const tcpdump = await startCapture(capture.file, `udp port ${capture.port}`);
    const sink = await openWireOutput(url);
    const conversations = flows.map(({ endpoints, path, body }) =>
      httpConversation(endpoints, path, body, sink.maxSegmentPayload(endpoints.client.includes(':') ? 6 : 4)),
    );
    await sendAll(sink, interleave(conversations));
    const captureDrops = await tcpdump.stop();
    expect(captureDrops, 'packets tcpdump says the kernel dropped from the capture').to.equal(0);
    return { stats: sink.stats, received, sent: conversations.flat().length };
  } finally {
    peer.close();
  }
}

/** Addresses in one spelling (Suricata writes IPv6 in full): `hex:port hex:port`. */
export function normaliseFlow(flow: string): string {
  const [client, clientPort, server, serverPort] = flow.split(' ');
  return `${parseAddress(client!).toString('hex')}:${clientPort} ${parseAddress(server!).toString('hex')}:${serverPort}`;
}

/** The checks VXLAN and GENEVE share, as mocha tests. */
export function describeTunnelChecks(get: () => { capture: TunnelCapture; flows: readonly TestFlow[]; mtu: number; folder: string }): void {
  it('has every inner checksum valid (tshark)', async () => {
    const { capture } = get();
    const bad = await capturedRows(capture, ['frame.number'], 'tcp.checksum.status != 1 || ip.checksum.status == 0 || !tcp');
    expect(bad, 'frames with a bad inner checksum or no inner TCP').to.deep.equal([]);
  });

  it('never exceeds the MTU, full segments fill it exactly, nothing is fragmented', async () => {
    const { capture, mtu } = get();
    const lengths = (await capturedRows(capture, ['ip.len'])).map(([list]) => Number(list!.split(',')[0]));
    expect(Math.max(...lengths)).to.equal(mtu);
    const fragments = await capturedRows(capture, ['frame.number'], 'ip.flags.mf == 1 || ip.frag_offset > 0');
    expect(fragments).to.deep.equal([]);
  });

  it('keeps one UDP source port per flow (both directions), different across flows', async () => {
    const { capture, flows } = get();
    const rows = await capturedRows(capture, ['udp.srcport', 'tcp.stream']);
    const portsByStream = new Map<string, Set<number>>();
    for (const [sourcePort, stream] of rows) {
      const ports = portsByStream.get(stream!) ?? new Set();
      ports.add(Number(sourcePort!.split(',')[0]));
      portsByStream.set(stream!, ports);
    }
    expect(portsByStream.size).to.equal(flows.length);
    const chosen = [...portsByStream.values()].map((ports) => {
      expect(ports.size).to.equal(1);
      return [...ports][0]!;
    });
    expect(new Set(chosen).size).to.equal(flows.length);
    for (const sourcePort of chosen) expect(sourcePort).to.be.within(49152, 65535);
  });

  it('carries every HTTP object intact (tshark --export-objects)', async () => {
    const { capture, flows } = get();
    const objects = await exportedHttpObjects(capture);
    for (const { path, body } of flows) expect(objects.get(sha256(body)), path).to.be.a('string');
  });

  it('is decapsulated by Suricata, which sees every flow and file', async () => {
    const { capture, flows, folder } = get();
    const view = await suricataView(capture, join(folder, `suricata-${capture.port}`));
    const flowKeys = new Set([...view.flows].map(normaliseFlow));
    for (const { endpoints, path, body } of flows) {
      const key = normaliseFlow(`${endpoints.client} ${endpoints.clientPort} ${endpoints.server} ${endpoints.serverPort}`);
      expect(flowKeys, `flow ${key} in ${[...flowKeys].join('; ')}`).to.include(key);
      expect(view.urls, path).to.include(path);
      expect(view.fileSizes.get(path), path).to.equal(body.length);
    }
  });
}
