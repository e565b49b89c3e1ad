/**
 * Wire export speed: packets per second through the VXLAN sink to a loopback
 * UDP peer, against a bare `dgram` send loop of the same packets on one
 * connected socket, in the same run. Goal: ratio at least 0.7.
 * The peer runs in a child process so that its reading costs this core nothing.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Packet } from '../stitcher/packet/packet.js';
import { openWireOutput } from '../stitcher/export/wire-output.js';

export interface WireExportResult {
  stitcherPps: number;
  rawDgramPps: number;
  ratio: number;
}

const peerScript = `
const socket = require('node:dgram').createSocket('udp4');
socket.on('message', () => {});
socket.bind(0, '127.0.0.1', () => process.stdout.write(String(socket.address().port) + '\\n'));
`;

export async function benchWireExport(packets: Packet[]): Promise<WireExportResult> {
  if (packets.length === 0) throw new Error('benchWireExport: no packets to send');
  const peer = spawn(process.execPath, ['-e', peerScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      peer.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      peer.once('exit', (code) => reject(new Error(`bench UDP peer exited (${code}) before binding`)));
    });
    const warmup = packets.slice(0, Math.min(packets.length, 10_000));
    await sendRaw(warmup, port);
    await sendThroughSink(warmup, port);
    // Best of three each, interleaved: other work on the machine hits both alike.
    let rawSeconds = Infinity;
    let sinkSeconds = Infinity;
    for (let round = 0; round < 3; round++) {
      rawSeconds = Math.min(rawSeconds, await sendRaw(packets, port));
      sinkSeconds = Math.min(sinkSeconds, await sendThroughSink(packets, port));
    }
    const stitcherPps = packets.length / sinkSeconds;
    const rawDgramPps = packets.length / rawSeconds;
    return { stitcherPps, rawDgramPps, ratio: stitcherPps / rawDgramPps };
  } finally {
    peer.kill();
  }
}

/** Seconds to send every packet through `vxlan://127.0.0.1:port`, close included. */
async function sendThroughSink(packets: readonly Packet[], port: number): Promise<number> {
  const sink = await openWireOutput(`vxlan://127.0.0.1:${port}?vni=1`);
  const start = performance.now();
  for (const packet of packets) {
    if (!sink.write(packet)) await sink.drain();
  }
  await sink.close();
  return (performance.now() - start) / 1000;
}

/** Seconds for the bare loop: one connected socket, one send per packet, no callbacks. */
async function sendRaw(packets: readonly Packet[], port: number): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
  const start = performance.now();
  for (const packet of packets) socket.send([packet.header, packet.payload]);
  await new Promise<void>((resolve) => socket.close(resolve));
  return (performance.now() - start) / 1000;
}
