/**
 * Wire export against a limit and a peer, on a veth pair into a network
 * namespace made for the run (only this run's own addresses receive): the
 * VXLAN sink, a bare `dgram` loop sending the same UDP payloads on one
 * connected socket (the limit for Node), and `tcpreplay --topspeed` of the
 * same datagrams as frames (the peer: C, no socket layer). A UDP receiver on
 * the other core in the namespace takes them. Rounds dgram, sink, tcpreplay;
 * ratios per round. Goal: VXLAN >= 0.9 of the bare loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, pinnedRun, rounds } from './pairs.js';
import { formatProfile, summariseProfileDir } from './profile-summary.js';
import type { WireChildResult } from './wire-child.js';

export interface WireBench {
  readonly packets: number;
  readonly sinkPps: number;
  readonly dgramPps: number;
  readonly tcpreplayPps: number;
  /** Packets the sink or the loop lost (median round). */
  readonly sinkLost: number;
  readonly overDgram: number;
  readonly overTcpreplay: number;
  readonly profile?: string;
}

export const WIRE_GOAL = 0.9;

const child = fileURLToPath(new URL('./wire-child.js', import.meta.url));
const namespace = `ctbench${process.pid}`;
const hostSide = `ctb${process.pid % 100000}h`;
const peerSide = `ctb${process.pid % 100000}p`;
const subnet = `198.19.${process.pid % 250}`;
const hostAddress = `${subnet}.1`;
const peerAddress = `${subnet}.2`;

const receiverScript = `
const socket = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
let count = 0;
socket.on('message', () => count++);
socket.bind(4789, '${peerAddress}', () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => { process.stdout.write(count + '\\n'); process.exit(0); });
`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

function macOf(device: string, inNamespace: boolean): string {
  const out = inNamespace ? ip('netns', 'exec', namespace, 'ip', '-j', 'link', 'show', device) : ip('-j', 'link', 'show', device);
  return (JSON.parse(out) as { address: string }[])[0]!.address;
}

async function setUp(): Promise<ChildProcess> {
  ip('netns', 'add', namespace);
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', peerSide);
  ip('link', 'set', peerSide, 'netns', namespace);
  ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerSide);
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', peerSide, 'up');
  const receiver = spawn('ip', ['netns', 'exec', namespace, 'taskset', '-c', '1', process.execPath, '-e', receiverScript], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      receiver.stdout!.once('data', () => resolve());
      receiver.once('exit', (code) => reject(new Error(`bench: the UDP receiver in ${namespace} exited (${code}) before binding`)));
    });
    // One datagram fills the neighbour table, so no measured send waits on ARP.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.send(Buffer.alloc(1), 4789, peerAddress, (error) => (error ? reject(error) : resolve())));
    socket.close();
    return receiver;
  } catch (error) {
    receiver.kill('SIGKILL');
    throw error;
  }
}

function tearDown(receiver: ChildProcess | undefined): void {
  receiver?.kill('SIGKILL');
  try { ip('link', 'del', hostSide); } catch { /* already gone with the namespace */ }
  try { ip('netns', 'del', namespace); } catch { /* never made */ }
}

function runChild(mode: string, bytes: number, extra: readonly string[] = []): WireChildResult {
  const stdout = pinnedRun(process.execPath, [child, mode, String(bytes), peerAddress, ...extra]).stdout;
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as WireChildResult;
}

/** tcpreplay's own count and time ("Actual: N packets (B bytes) sent in S seconds"). */
function tcpreplay(pcap: string): { packets: number; seconds: number } {
  const stdout = pinnedRun('tcpreplay', ['--topspeed', '-q', '-i', hostSide, pcap]).stdout;
  const match = /Actual: (\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(stdout);
  if (match === null) throw new Error(`bench: tcpreplay printed no "Actual:" line: ${stdout.slice(0, 300)}`);
  return { packets: Number(match[1]), seconds: Number(match[2]) };
}

/** @throws Error when namespaces cannot be made (not root) or a tool is missing. */
export async function benchWire(bytes: number, workDir: string): Promise<WireBench> {
  let receiver: ChildProcess | undefined;
  try {
    receiver = await setUp();
    const pcap = join(workDir, 'wire.pcap');
    runChild('pcap', bytes, [pcap, hostAddress, macOf(hostSide, false), macOf(peerSide, true)]);
    runChild('dgram', bytes); // warm-up
    const sink: WireChildResult[] = [];
    const raw: WireChildResult[] = [];
    const replay: { packets: number; seconds: number }[] = [];
    for (let round = 0; round < rounds(); round++) {
      raw.push(runChild('dgram', bytes));
      sink.push(runChild('sink', bytes));
      replay.push(tcpreplay(pcap));
    }
    rmSync(pcap, { force: true });
    const pps = (r: { packets: number; seconds: number }): number => r.packets / r.seconds;
    const overDgram = median(sink.map((s, i) => pps(s) / pps(raw[i]!)));
    let profile: string | undefined;
    if (overDgram < WIRE_GOAL) {
      const dir = mkdtempSync(join(workDir, 'profile-'));
      process.env.BENCH_CPU_PROFILE = dir;
      try {
        runChild('sink', bytes);
      } finally {
        delete process.env.BENCH_CPU_PROFILE;
      }
      profile = formatProfile('VXLAN sink, the timed send loop only', summariseProfileDir(dir));
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      packets: sink[0]!.packets,
      sinkPps: median(sink.map(pps)), dgramPps: median(raw.map(pps)), tcpreplayPps: median(replay.map(pps)),
      sinkLost: median(sink.map((s) => s.lost)),
      overDgram, overTcpreplay: median(sink.map((s, i) => pps(s) / pps(replay[i]!))),
      ...(profile === undefined ? {} : { profile }),
    };
  } finally {
    tearDown(receiver);
  }
}
