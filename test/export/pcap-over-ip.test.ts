import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Packet } from '../../stitcher/packet/packet.js';
import { openWireOutput } from '../../stitcher/export/wire-output.js';
import type { WireSink } from '../../stitcher/export/wire-sink.js';
import { httpConversation } from './wire-frames.js';
import { sha256 } from '../support/sha.js';
import { exportedObjectHashes, tsharkFields } from '../support/tshark.js';
import { until } from '../support/until.js';
import { interleave } from './tunnel-judge.js';

const body1 = randomBytes(50_000);
const body2 = randomBytes(7_777);

function conversations(): Packet[] {
  return interleave([
    httpConversation({ client: '10.2.0.1', server: '192.0.2.9', clientPort: 42001, serverPort: 80 }, '/p1.bin', body1, 1460),
    httpConversation({ client: 'fd00:2::1', server: '2001:db8::9', clientPort: 42002, serverPort: 80 }, '/p2.bin', body2, 1440),
  ]);
}

async function writeAll(sink: WireSink, packets: readonly Packet[]): Promise<void> {
  for (const packet of packets) if (!sink.write(packet)) await sink.drain();
}

describe('export/pcap-over-ip', function () {
  this.timeout(60_000);
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'wire-poip-'));
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('listen: serves tshark (-i TCP@host:port) and a second client the same valid stream', async () => {
    const port = 27012;
    const sink = await openWireOutput(`pcap-over-ip://127.0.0.1:${port}?listen`);
    const packets = conversations();
    const tsharkFile = join(folder, 'tshark.pcap');
    const tshark = spawn('tshark', ['-i', `TCP@127.0.0.1:${port}`, '-c', String(packets.length), '-w', tsharkFile], { stdio: 'ignore' });
    const tsharkDone = new Promise<number | null>((resolve) => tshark.once('exit', resolve));
    // Should tshark miss a packet it would wait for ever: the test then fails on its exit code.
    const stuck = setTimeout(() => tshark.kill('SIGKILL'), 20_000);
    void tsharkDone.then(() => clearTimeout(stuck));
    const chunks: Buffer[] = [];
    const client = net.connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    const clientDone = new Promise((resolve) => client.once('close', resolve));
    await until(() => sink.stats.connections === 2, 'tshark and the socket client to connect');
    await writeAll(sink, packets);
    expect(await tsharkDone, 'tshark exit code').to.equal(0);
    await sink.close();
    await clientDone;

    const socketFile = join(folder, 'socket.pcap');
    await writeFile(socketFile, Buffer.concat(chunks));
    for (const file of [tsharkFile, socketFile]) {
      const rows = await tsharkFields(file, '', ['frame.number']);
      expect(rows.length, file).to.equal(packets.length);
      const bad = await tsharkFields(file, 'tcp.checksum.status != 1', ['frame.number']);
      expect(bad, file).to.deep.equal([]);
      const hashes = new Set(await exportedObjectHashes(file));
      expect(hashes, file).to.include(sha256(body1));
      expect(hashes, file).to.include(sha256(body2));
    }
    // Record times are the packets' own capture times, to the microsecond.
    const times = await tsharkFields(socketFile, '', ['frame.time_epoch']);
    expect(times[0]![0]).to.equal(`${packets[0]!.tsNs / 1_000_000_000n}.${String((packets[0]!.tsNs / 1000n) % 1_000_000n).padStart(6, '0')}000`);
    expect(sink.stats.dropped).to.equal(0);
  });

  it('connect: reconnects after the listener drops it, starting a fresh pcap stream', async () => {
    const streams: Buffer[][] = [];
    const live: net.Socket[] = [];
    const server = net.createServer((socket) => {
      live.push(socket);
      const chunks: Buffer[] = [];
      streams.push(chunks);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const sink = await openWireOutput(`pcap-over-ip://127.0.0.1:${port}`);
    expect(sink.stats.connections).to.equal(1);
    const packets = conversations();
    const half = Math.floor(packets.length / 2);
    await writeAll(sink, packets.slice(0, half));
    await until(() => Buffer.concat(streams[0] ?? []).length > 0, 'the first bytes');
    // The listener drops every connection it has; the sink must come back by itself.
    live[0]!.destroy();
    await until(() => sink.stats.connections === 2, 'the reconnection');
    await writeAll(sink, packets);
    await sink.close();
    await until(() => streams.length === 2, 'the second stream');
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.close();

    const second = join(folder, 'second.pcap');
    await writeFile(second, Buffer.concat(streams[1]!));
    const rows = await tsharkFields(second, '', ['frame.number']);
    expect(rows.length).to.equal(packets.length);
    const hashes = new Set(await exportedObjectHashes(second));
    expect(hashes).to.include(sha256(body1));
    expect(hashes).to.include(sha256(body2));
  });

  it('connect: with no listener, drops and counts instead of queueing, and closes cleanly', async () => {
    const unused = net.createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const port = (unused.address() as net.AddressInfo).port;
    await new Promise((resolve) => unused.close(resolve));
    const sink = await openWireOutput(`pcap-over-ip://127.0.0.1:${port}`);
    const packets = conversations();
    await writeAll(sink, packets);
    expect(sink.stats.dropped).to.equal(packets.length);
    expect(sink.stats.packets).to.equal(0);
    expect(sink.stats.errorsByCode.ECONNREFUSED).to.be.at.least(1);
    await sink.close();
  });
});
