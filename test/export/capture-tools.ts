/** Packets to write and the real tools (tshark, capinfos) that judge the files. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Packet } from '../../stitcher/packet/packet.js';

const run = promisify(execFile);

/** A deterministic pseudo-random source, so a failing case can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/**
 * `count` frames with an Ethernet header (local experimental EtherType, so that
 * tshark shows the rest as data) and random bytes after it, sizes from
 * header-only to 1500, timestamps rising by random nanosecond steps from `startNs`.
 */
export function makePackets(count: number, startNs: bigint, options: { seed?: number; maxStepNs?: number } = {}): Packet[] {
  const random = seededRandom(options.seed ?? 1);
  const maxStep = options.maxStepNs ?? 3_000_000_000;
  const packets: Packet[] = [];
  let tsNs = startNs;
  for (let i = 0; i < count; i++) {
    const ethernet = Buffer.concat([randomBytes(random, 12), Buffer.from([0x88, 0xb5])]);
    const header = Buffer.concat([ethernet, randomBytes(random, Math.floor(random() * 60))]);
    const payload = randomBytes(random, i % 7 === 0 ? 0 : Math.floor(random() * 1400));
    packets.push({ tsNs, header, payload });
    tsNs += BigInt(Math.floor(random() * maxStep));
  }
  return packets;
}

/** `1764083700.123456789`, as tshark prints frame.time_epoch. */
export function epochText(tsNs: bigint): string {
  return `${tsNs / 1_000_000_000n}.${String(tsNs % 1_000_000_000n).padStart(9, '0')}`;
}

export interface ReadFrame {
  readonly epoch: string;
  readonly length: number;
  readonly capturedLength: number;
  readonly hex: string;
}

/** Every frame of a capture file as tshark reads it. */
export async function tsharkFrames(path: string): Promise<ReadFrame[]> {
  const { stdout } = await run('tshark', ['-r', path, '-T', 'json', '-x', '-J', 'frame'], { maxBuffer: 1 << 28 });
  interface Layers {
    frame_raw: unknown[];
    frame: Record<string, string>;
  }
  const frames = JSON.parse(stdout) as { _source: { layers: Layers } }[];
  return frames.map(({ _source: { layers } }) => ({
    epoch: String(layers.frame['frame.time_epoch']),
    length: Number(layers.frame['frame.len']),
    capturedLength: Number(layers.frame['frame.cap_len']),
    hex: String(layers.frame_raw[0]),
  }));
}

/** capinfos' report as name -> value ("Number of packets" -> "12"; times in epoch seconds). */
export async function capinfos(path: string): Promise<Map<string, string>> {
  return (await capinfosEach([path])).get(path) as Map<string, string>;
}

/** capinfos on many files in one run: path -> its report. */
export async function capinfosEach(paths: readonly string[]): Promise<Map<string, Map<string, string>>> {
  const { stdout } = await run('capinfos', ['-M', '-S', ...paths], { maxBuffer: 1 << 26 });
  const reports = new Map<string, Map<string, string>>();
  let info = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([^:]+):\s+(.*)$/.exec(line);
    if (!match) continue;
    const [name, value] = [(match[1] as string).trim(), (match[2] as string).trim()];
    if (name === 'File name') reports.set(value, (info = new Map()));
    info.set(name, value);
  }
  return reports;
}

/** Every frame of several files in order, through mergecap -a (which reads each) and one tshark run. */
export async function tsharkFramesOfAll(paths: readonly string[], merged: string): Promise<ReadFrame[]> {
  await run('mergecap', ['-a', '-w', merged, ...paths]);
  return tsharkFrames(merged);
}

export function expectedFrame(packet: Packet): ReadFrame {
  const bytes = Buffer.concat([packet.header, packet.payload]);
  return { epoch: epochText(packet.tsNs), length: bytes.length, capturedLength: bytes.length, hex: bytes.toString('hex') };
}

export async function runTool(command: string, args: readonly string[]): Promise<string> {
  return (await run(command, [...args], { maxBuffer: 1 << 26 })).stdout;
}
