/**
 * One wire measurement in a process of its own (bench/wire.ts pins it to one
 * core): synthesises the packets of a few large flows (untimed), then either
 * sends them through the VXLAN sink (`sink`), or sends the same UDP payloads
 * (VXLAN header + inner frame) in a bare `dgram` loop on one connected socket
 * (`dgram`), or writes them, as the full frames on the wire, into a pcap for
 * tcpreplay (`pcap`). Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CloseReason, Direction, RecordType, type FlowOpenRecord } from '../stitcher/format/records.js';
import { TcpSynthesizer } from '../stitcher/flow/tcp-synthesizer.js';
import type { Packet } from '../stitcher/packet/packet.js';
import { openWireOutput } from '../stitcher/export/wire-output.js';
import { innerFlowHash, tunnelPortCount, tunnelSourcePort } from '../stitcher/export/flow-hash.js';
import { vxlanHeader } from '../stitcher/export/vxlan.js';

export interface WireChildResult {
  readonly packets: number;
  readonly seconds: number;
  /** Packets the sink dropped or the kernel refused (sink), or send errors (dgram). */
  readonly lost: number;
}

const VNI = 4242;
const PORT = 4789;
const CHUNK = 64 * 1024;

function flowOpen(index: number): FlowOpenRecord {
  return {
    type: RecordType.FlowOpen, flowId: randomBytes(16), tsNs: 1_800_000_000_000_000_000n, ipVersion: 4, l4: 6,
    clientIp: Buffer.from([10, 0, 0, index + 1]), clientPort: 40000 + index, serverIp: Buffer.from([198, 51, 100, 7]), serverPort: 443, tags: {},
  };
}

/** The packets of eight downloads of `totalBytes` together, copied out of the synthesiser's reused memory. */
function synthesise(totalBytes: number): Packet[] {
  const packets: Packet[] = [];
  const synth = new TcpSynthesizer((p) => packets.push({ tsNs: p.tsNs, header: Buffer.from(p.header), payload: Buffer.from(p.payload) }), { maxSegmentPayload: 1398 });
  const body = randomBytes(CHUNK);
  const perFlow = Math.max(CHUNK, Math.floor(totalBytes / 8 / CHUNK) * CHUNK);
  for (let i = 0; i < 8; i++) {
    const open = flowOpen(i);
    const flow = { key: open.flowId.toString('hex'), gateway: 'bench', open };
    synth.openFlow(flow);
    for (let offset = 0; offset < perFlow; offset += CHUNK) {
      synth.flowEvent(flow, { kind: 'data', dir: Direction.ServerToClient, tsNs: open.tsNs + BigInt(offset), offset: BigInt(offset), payload: body });
    }
    synth.flowEvent(flow, { kind: 'close', tsNs: open.tsNs + 1_000_000_000n, reason: CloseReason.FinFromServer });
  }
  return packets;
}

/** With BENCH_CPU_PROFILE=<dir>, the timed part alone is profiled into <dir>/sink.cpuprofile (synthesis is not). */
async function sendThroughSink(packets: readonly Packet[], host: string): Promise<WireChildResult> {
  const sink = await openWireOutput(`vxlan://${host}:${PORT}?vni=${VNI}`);
  const profileDir = process.env.BENCH_CPU_PROFILE;
  const session = profileDir === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const start = performance.now();
  for (const packet of packets) {
    if (!sink.write(packet)) await sink.drain();
  }
  await sink.close();
  if (session !== undefined && profileDir !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(profileDir, 'sink.cpuprofile'), JSON.stringify(profile));
    session.disconnect();
  }
  return { packets: packets.length, seconds: (performance.now() - start) / 1000, lost: sink.stats.dropped + sink.stats.sendErrors };
}

async function sendRaw(packets: readonly Packet[], host: string): Promise<WireChildResult> {
  const header = vxlanHeader(VNI);
  const socket = dgram.createSocket('udp4');
  let lost = 0;
  socket.on('error', () => lost++);
  await new Promise<void>((resolve) => socket.connect(PORT, host, resolve));
  const start = performance.now();
  for (const packet of packets) socket.send([header, packet.header, packet.payload]);
  await new Promise<void>((resolve) => socket.close(resolve));
  return { packets: packets.length, seconds: (performance.now() - start) / 1000, lost };
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((part) => Number.parseInt(part, 16)));
}

/** The frames the kernel would put on the veth for the same datagrams, as a classic pcap (microseconds). */
function writePcap(packets: readonly Packet[], path: string, from: string, to: string, fromMac: string, toMac: string): WireChildResult {
  const parts: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(262144, 16);
  global.writeUInt32LE(1, 20);
  parts.push(global);
  const vxlan = vxlanHeader(VNI);
  const source = Buffer.from(from.split('.').map(Number));
  const destination = Buffer.from(to.split('.').map(Number));
  packets.forEach((packet, index) => {
    const udpLength = 8 + vxlan.length + packet.header.length + packet.payload.length;
    const frame = Buffer.alloc(14 + 20 + 8 + vxlan.length);
    mac(toMac).copy(frame, 0);
    mac(fromMac).copy(frame, 6);
    frame.writeUInt16BE(0x0800, 12);
    const ip = frame.subarray(14, 34);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udpLength, 2);
    ip.writeUInt16BE(index & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6);
    ip[8] = 64;
    ip[9] = 17;
    source.copy(ip, 12);
    destination.copy(ip, 16);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
    frame.writeUInt16BE(tunnelSourcePort(innerFlowHash(packet.header), tunnelPortCount), 34);
    frame.writeUInt16BE(PORT, 36);
    frame.writeUInt16BE(udpLength, 38);
    vxlan.copy(frame, 42);
    const length = frame.length + packet.header.length + packet.payload.length;
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(index / 1e6), 0);
    record.writeUInt32LE(index % 1e6, 4);
    record.writeUInt32LE(length, 8);
    record.writeUInt32LE(length, 12);
    parts.push(record, frame, packet.header, packet.payload);
  });
  writeFileSync(path, Buffer.concat(parts));
  return { packets: packets.length, seconds: 0, lost: 0 };
}

const [mode, bytes, host, pcapPath, fromAddress, fromMac, toMac] = process.argv.slice(2);
if (host === undefined || bytes === undefined) throw new Error('usage: wire-child sink|dgram|pcap <bytes> <peer address> [pcap path, source address, source MAC, peer MAC]');
const packets = synthesise(Number(bytes));
let result: WireChildResult;
if (mode === 'sink') result = await sendThroughSink(packets, host);
else if (mode === 'dgram') result = await sendRaw(packets, host);
else if (mode === 'pcap' && pcapPath !== undefined && fromAddress !== undefined && fromMac !== undefined && toMac !== undefined) result = writePcap(packets, pcapPath, fromAddress, host, fromMac, toMac);
else throw new Error(`wire-child: unknown mode ${mode}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
