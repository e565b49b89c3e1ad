import { expect } from 'chai';
import dgram from 'node:dgram';
import type { Packet } from '../../stitcher/packet/packet.js';
import { UdpTunnel } from '../../stitcher/export/udp-tunnel.js';
import { createVxlanSink } from '../../stitcher/export/vxlan.js';
import { emptyWireStats } from '../../stitcher/export/wire-sink.js';

/** An Ethernet + IPv4 + TCP header of flow `flow` (its source port), no payload. */
function tcpPacket(flow: number): Packet {
  const header = Buffer.alloc(54);
  header.writeUInt16BE(0x0800, 12);
  header[14] = 0x45;
  header[23] = 6;
  header.writeUInt32BE(0x0a000001, 26);
  header.writeUInt32BE(0x0a000002, 30);
  header.writeUInt16BE(40000 + flow, 34);
  header.writeUInt16BE(443, 36);
  return { tsNs: 0n, header, payload: Buffer.alloc(0) };
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('export/udp-tunnel', () => {
  it('counts ECONNREFUSED from an absent peer and keeps going', async () => {
    const stats = emptyWireStats();
    const tunnel = new UdpTunnel({ address: '127.0.0.1', family: 4, port: await freeUdpPort(), sourcePorts: 1 }, stats);
    for (let i = 0; i < 20; i++) {
      tunnel.send(7, [Buffer.from('datagram')], 8);
      // Give the kernel's port-unreachable time to come back between sends.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await tunnel.close();
    expect(stats.packets).to.equal(20);
    expect(stats.errorsByCode.ECONNREFUSED).to.be.at.least(1);
    expect(stats.sendErrors).to.equal(stats.errorsByCode.ECONNREFUSED);
  });

  it('holds at most queuePackets while a socket opens, drops and counts the rest, then sends what it held', async () => {
    const peer = dgram.createSocket('udp4');
    const payloads: string[] = [];
    peer.on('message', (message) => payloads.push(message.toString()));
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const stats = emptyWireStats();
    const tunnel = new UdpTunnel({ address: '127.0.0.1', family: 4, port: peer.address().port, sourcePorts: 4, queuePackets: 5 }, stats);
    const answers = Array.from({ length: 12 }, (_, i) => tunnel.send(3, [Buffer.from(`p${i}`)], 2));
    expect(answers.slice(0, 4)).to.deep.equal([true, true, true, true]);
    expect(answers.slice(4).filter((answer) => answer !== false)).to.deep.equal([]);
    expect(stats.dropped).to.equal(7);
    await tunnel.drain();
    await tunnel.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.close();
    expect(payloads).to.deep.equal(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(stats.packets).to.equal(5);
  });

  it('sends one flow from one source port, different flow hashes from different ports', async () => {
    const peer = dgram.createSocket('udp4');
    const sources = new Map<string, Set<number>>();
    peer.on('message', (message, remote) => {
      const set = sources.get(message.toString()) ?? new Set<number>();
      set.add(remote.port);
      sources.set(message.toString(), set);
    });
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const stats = emptyWireStats();
    const tunnel = new UdpTunnel({ address: '127.0.0.1', family: 4, port: peer.address().port, sourcePorts: 8 }, stats);
    for (let round = 0; round < 5; round++) {
      for (let flow = 0; flow < 8; flow++) tunnel.send(flow, [Buffer.from(`flow${flow}`)], 5);
      await tunnel.drain();
    }
    await tunnel.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.close();
    expect(sources.size).to.equal(8);
    const ports = [...sources.values()].map((set) => {
      expect(set.size).to.equal(1);
      return [...set][0]!;
    });
    expect(new Set(ports).size).to.equal(8);
    for (const port of ports) expect(port).to.be.within(49152, 65535);
  });

  it('sends over IPv6 from the same port range', async () => {
    const peer = dgram.createSocket('udp6');
    const received: { text: string; port: number }[] = [];
    peer.on('message', (message, remote) => received.push({ text: message.toString(), port: remote.port }));
    await new Promise<void>((resolve) => peer.bind(0, '::1', resolve));
    const stats = emptyWireStats();
    const tunnel = new UdpTunnel({ address: '::1', family: 6, port: peer.address().port, sourcePorts: 2 }, stats);
    tunnel.send(1, [Buffer.from('over'), Buffer.from(' six')], 8);
    await tunnel.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.close();
    expect(received.map((r) => r.text)).to.deep.equal(['over six']);
    expect(received[0]!.port).to.be.within(49152, 65535);
    expect(stats.bytes).to.equal(8);
  });

  it('lets two tunnels (two outputs, two shards) share source ports to one peer', async () => {
    const peer = dgram.createSocket('udp4');
    const received: string[] = [];
    const sourcePorts = new Set<number>();
    peer.on('message', (message, remote) => {
      received.push(message.toString());
      sourcePorts.add(remote.port);
    });
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const stats = [emptyWireStats(), emptyWireStats()];
    const tunnels = stats.map((s) => new UdpTunnel({ address: '127.0.0.1', family: 4, port: peer.address().port, sourcePorts: 1 }, s));
    tunnels.forEach((tunnel, i) => tunnel.send(5, [Buffer.from(`from ${i}`)], 6));
    await Promise.all(tunnels.map((tunnel) => tunnel.close()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.close();
    expect(received.sort()).to.deep.equal(['from 0', 'from 1']);
    expect(sourcePorts.size, 'both sent from the one port of their only slot').to.equal(1);
    expect(stats.map((s) => s.sendErrors)).to.deep.equal([0, 0]);
  });

  it('a tunnel sink (VXLAN here) flushes what its binding sockets hold, and after open takes a burst on every port without a drop', async () => {
    const peer = dgram.createSocket('udp4');
    let received = 0;
    peer.on('message', () => received++);
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const options = { address: '127.0.0.1', family: 4 as const, port: peer.address().port, vni: 7, description: 'vxlan://test' };
    const sink = createVxlanSink({ ...options, sourcePorts: 8, queuePackets: 4 });
    // One flow: one socket, still binding, holds all three.
    for (let i = 0; i < 3; i++) sink.write(tcpPacket(0));
    await sink.flush();
    expect(sink.stats.packets, 'flush waited for the held datagrams').to.equal(3);
    await sink.open?.();
    // More flows than queuePackets: only sockets already open take them all.
    for (let flow = 0; flow < 32; flow++) sink.write(tcpPacket(flow));
    await sink.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer.close();
    expect(sink.stats.dropped).to.equal(0);
    expect(sink.stats.packets).to.equal(35);
    expect(received).to.equal(35);
  });
});
