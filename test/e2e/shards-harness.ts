/**
 * What the shard end-to-end suites share: a generator that writes objects at a
 * steady pace (so stitchers are stopped and killed mid-stream), stitcher
 * processes started the way a pod runs them, and the judge of the union of
 * their captures: every flow's bytes in both directions exactly once (or, for
 * the gateways of a killed shard, with repeats within the bound), and every
 * HTTP object carved out byte for byte by tshark.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlowManifest, GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { KeyFeed } from '../../stitcher/ingest/key-feed.js';
import { shardOfGateway } from '../../stitcher/shard/shard.js';
import { compiledRoot, nodeBinary } from '../support/paths.js';
import { runOk } from '../support/run.js';
import { until } from '../support/until.js';
import { exportedObjectHashes, tsharkFields } from '../support/tshark.js';

/** A folder store whose writes land one at a time, `delayMs` apart: a gateway fleet uploading steadily. */
export class PacedStore extends LocalFolderStore {
  private tail: Promise<void> = Promise.resolve();

  constructor(folder: string, private readonly delayMs: number) {
    super(folder);
  }

  override write(key: string, data: Buffer): Promise<void> {
    const written = this.tail.then(async () => {
      await sleep(this.delayMs);
      await super.write(key, data);
    });
    this.tail = written.catch(() => undefined);
    return written;
  }
}

export interface Stitcher {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: string;
  stderr(): string;
  /** The run summary it printed on exit. */
  stdout(): string;
}

export interface StitcherSpec {
  readonly name: string;
  readonly bucket: string;
  /** A pcap file, or a folder (ending in /) of files rotated every 32 KiB. */
  readonly output: string;
  readonly checkpoint: string;
  readonly shard: { readonly index: number; readonly count: number };
  readonly env?: NodeJS.ProcessEnv;
  readonly extraArgs?: readonly string[];
}

/** `cloudtap stitch` on the compiled code under test, as a pod runs it (node itself, so kill -9 hits the stitcher). */
export function startStitcher(spec: StitcherSpec): Stitcher {
  const args = [
    '--enable-source-maps', join(compiledRoot, 'stitcher', 'cli', 'main.js'), 'stitch',
    '--source', `file://${spec.bucket}`, '--output', `pcap://${spec.output}${spec.output.endsWith('/') ? '?rotate-size=32K' : ''}`,
    '--poll-interval', '150ms', '--checkpoint', spec.checkpoint, '--checkpoint-interval', '400ms',
    '--reorder-wait', '20s', '--look-back', '3h', '--quiet', '--log-level', 'warn',
    ...(spec.extraArgs ?? []),
  ];
  const child = spawn(nodeBinary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env, SHARD_INDEX: String(spec.shard.index), SHARD_COUNT: String(spec.shard.count) },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { name: spec.name, child, exited, output: spec.output, stderr: () => stderr, stdout: () => stdout };
}

/** SIGTERM and the exit code (a clean stop is 0). */
export async function stopStitcher(stitcher: Stitcher): Promise<number | null> {
  stitcher.child.kill('SIGTERM');
  return stitcher.exited;
}

export async function killStitcher(stitcher: Stitcher): Promise<void> {
  stitcher.child.kill('SIGKILL');
  await stitcher.exited;
}

/**
 * The capture files of an output that are not in `earlier` (the files of the
 * runs before), in the order the run wrote them: the file itself, or the pcap
 * files of a folder by the number a run gives each file it rotates to.
 */
export async function captureFiles(output: string, earlier: readonly string[] = []): Promise<string[]> {
  if (!output.endsWith('/')) return existsSync(output) ? [output] : [];
  if (!existsSync(output)) return [];
  const before = new Set(earlier);
  const numberOf = (name: string): number => Number(/-(\d{6})(?:\.\d+)?\.pcap$/.exec(name)?.[1] ?? Infinity);
  const names = (await readdir(output)).filter((name) => name.endsWith('.pcap') && !before.has(join(output, name)));
  return names.sort((a, b) => numberOf(a) - numberOf(b) || a.localeCompare(b)).map((name) => join(output, name));
}

/** Bytes in a file, or in all files of a folder. */
async function outputBytes(output: string): Promise<number> {
  const sizes = await Promise.all((await captureFiles(output)).map(async (file) => (await stat(file)).size));
  return sizes.reduce((n, size) => n + size, 0);
}

/** Waits until a file (or a folder's files) has grown past `bytes` (the stitcher is mid-stream). */
export async function waitForBytes(path: string, bytes: number, timeoutMs = 30_000): Promise<void> {
  await until(async () => await outputBytes(path) > bytes, `${path} to grow past ${bytes} bytes`, { timeoutMs, intervalMs: 50 });
}

/**
 * A pcap file cut off by kill -9 may end inside a record: keeps the whole
 * records (as a reader after a crash would) and writes them to `to`.
 */
export async function wholeRecords(from: string, to: string): Promise<number> {
  const bytes = await readFile(from);
  let at = 24;
  let records = 0;
  while (at + 16 <= bytes.length) {
    const length = bytes.readUInt32LE(at + 8);
    if (at + 16 + length > bytes.length) break;
    at += 16 + length;
    records++;
  }
  await writeFile(to, bytes.subarray(0, Math.max(24, at)));
  return records;
}

/**
 * One capture of every pcap file given, concatenated in the order given (the
 * order the stitchers started: a flow goes on in a later one), with no cut-off
 * record. Not merged by time: a stitcher's file is in time order per flow,
 * not across flows, so a merge by time could put a flow's end before its middle.
 */
export async function unionOf(files: readonly string[], into: string): Promise<string> {
  const whole: string[] = [];
  const parts = `${into}.parts`;
  await mkdir(parts, { recursive: true });
  for (const file of files) {
    // A file cut off before its header was written (kill -9 right after a rotation) holds nothing.
    if (!existsSync(file) || (await stat(file)).size < 24) continue;
    const fixed = join(parts, `${whole.length}-${basename(file)}`);
    await wholeRecords(file, fixed);
    whole.push(fixed);
  }
  await runOk('mergecap', ['-a', '-F', 'pcap', '-w', into, ...whole]);
  return into;
}

/** Every key log line in the bucket, as a file for tshark. */
export async function keyLogOf(bucket: ObjectStore, path: string): Promise<string> {
  const feed = new KeyFeed(bucket);
  const lines: string[] = [];
  feed.onKeyLog = (batch) => lines.push(batch.fresh);
  await feed.poll(true, () => undefined, () => undefined);
  await writeFile(path, lines.join(''));
  return path;
}

interface Interval {
  start: number;
  end: number;
}

export interface DirectionCount {
  /** Distinct stream bytes seen. */
  readonly unique: number;
  /** Bytes seen more than once. */
  readonly repeated: number;
  /** SYNs seen for the flow (one per export of its handshake). */
  readonly syns: number;
}

/** Per flow and direction, the distinct stream bytes in a capture and the bytes repeated. */
export async function countFlowBytes(file: string, result: GenerateResult): Promise<Map<string, [DirectionCount, DirectionCount]>> {
  const rows = await tsharkFields(file, 'tcp.len > 0 || tcp.flags.syn == 1',
    ['ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport', 'tcp.seq_raw', 'tcp.len', 'tcp.flags.syn']);
  const byClient = new Map(result.flows.map((flow) => [flow.client, flow]));
  const isn = new Map<string, number>();
  const intervals = new Map<string, Interval[]>();
  const syns = new Map<string, number>();
  for (const [s4 = '', s6 = '', sp = '', d4 = '', d6 = '', dp = '', seqText = '0', lenText = '0', syn = ''] of rows) {
    const source = endpoint(s4, s6, sp);
    const destination = endpoint(d4, d6, dp);
    const flow = byClient.get(source) ?? byClient.get(destination);
    if (flow === undefined) continue;
    const key = `${flow.client}|${byClient.has(source) ? 'c2s' : 's2c'}`;
    const seq = Number(seqText);
    if (syn === '1' || syn === 'True') {
      isn.set(key, seq);
      syns.set(key, (syns.get(key) ?? 0) + 1);
      continue;
    }
    const first = isn.get(key);
    if (first === undefined) throw new Error(`data of ${key} before its SYN`);
    const offset = (seq - first - 1 + 2 ** 32) % 2 ** 32;
    const list = intervals.get(key) ?? [];
    list.push({ start: offset, end: offset + Number(lenText) });
    intervals.set(key, list);
  }
  const counts = new Map<string, [DirectionCount, DirectionCount]>();
  for (const flow of result.flows) {
    const count = (dir: string): DirectionCount => {
      const key = `${flow.client}|${dir}`;
      const { unique, total } = union(intervals.get(key) ?? []);
      return { unique, repeated: total - unique, syns: syns.get(key) ?? 0 };
    };
    counts.set(flow.client, [count('c2s'), count('s2c')]);
  }
  return counts;
}

function union(list: Interval[]): { unique: number; total: number } {
  list.sort((a, b) => a.start - b.start);
  let unique = 0;
  let total = 0;
  let reach = -1;
  for (const { start, end } of list) {
    total += end - start;
    if (end > reach) {
      unique += end - Math.max(start, reach);
      reach = end;
    }
  }
  return { unique, total };
}

function endpoint(ip4: string, ip6: string, port: string): string {
  return ip4 !== '' ? `${ip4}:${port}` : `[${ip6}]:${port}`;
}

/**
 * The union holds every flow, both directions, every byte; repeats only on the
 * gateways in `mayRepeat` (those of a killed shard), and at most `repeatBound`
 * bytes in all; every HTTP object byte for byte.
 */
export async function judgeUnion(union: string, result: GenerateResult, keylog: string, mayRepeat: ReadonlySet<string>, repeatBound: number): Promise<void> {
  const counts = await countFlowBytes(union, result);
  let repeated = 0;
  const problems: string[] = [];
  for (const flow of result.flows) {
    const [c2s, s2c] = counts.get(flow.client)!;
    const lost = (dir: 'c2s' | 's2c'): number => flow.gaps.filter((g) => g.dir === dir).reduce((n, g) => n + g.length, 0);
    if (c2s.unique !== flow.bytesC2s - lost('c2s')) problems.push(`flow ${flow.index} (${flow.gateway}) c2s: ${c2s.unique} of ${flow.bytesC2s} bytes`);
    if (s2c.unique !== flow.bytesS2c - lost('s2c')) problems.push(`flow ${flow.index} (${flow.gateway}) s2c: ${s2c.unique} of ${flow.bytesS2c} bytes`);
    const repeats = c2s.repeated + s2c.repeated;
    const handshakes = c2s.syns;
    if (!mayRepeat.has(flow.gateway) && (repeats > 0 || handshakes !== 1)) {
      problems.push(`flow ${flow.index} (${flow.gateway}, not of a killed shard): ${repeats} bytes repeated, ${handshakes} handshakes`);
    }
    if (handshakes < 1) problems.push(`flow ${flow.index} (${flow.gateway}) has no handshake`);
    repeated += repeats;
  }
  expect(problems, 'flows not exported exactly').to.deep.equal([]);
  expect(repeated, 'bytes exported twice (kill -9 only)').to.be.at.most(repeatBound);
  const expected = result.flows.filter((flow) => flow.protocol !== 'h2' && flow.gaps.length === 0)
    .flatMap((flow: FlowManifest) => flow.objects.map((object) => object.sha256)).sort();
  const carved = new Set(await exportedObjectHashes(union, 'http', { keylog }));
  // A repeated segment may make tshark carve an object twice: every object must be there, nothing else.
  const missing = result.flows.flatMap((flow) => flow.objects.filter((o) => expected.includes(o.sha256) && !carved.has(o.sha256))
    .map((o) => `flow ${flow.index} (${flow.gateway}, ${flow.protocol}, ${flow.client}) ${o.path} ${o.size} bytes`));
  expect(missing, 'HTTP objects tshark could not carve from the union').to.deep.equal([]);
  expect([...carved].sort(), 'HTTP objects carved from the union').to.deep.equal([...new Set(expected)].sort());
}

/** Open flows the stitchers' summaries say they carried over from checkpoints, in all. */
export function flowsCarriedOver(stitchers: readonly Stitcher[]): number {
  return stitchers.reduce((n, s) => n + Number(/resume +[\d,]+ gateways, ([\d,]+) open flows carried over/.exec(s.stdout())?.[1]?.replace(/,/g, '') ?? 0), 0);
}

/** The gateways a shard owns, of those in the run. */
export function gatewaysOf(result: GenerateResult, index: number, count: number): Set<string> {
  return new Set(result.gateways.filter((gateway) => shardOfGateway(gateway, count) === index));
}

/**
 * TCP payload bytes in a run's capture files (in order) after their first
 * `afterPackets` packets: what a killed stitcher exported after its last checkpoint.
 */
export async function payloadBytes(files: readonly string[], afterPackets = 0): Promise<number> {
  if (files.length === 0) return 0;
  // Beside the captures it would count as one of them: a folder of its own.
  const fixed = await unionOf(files, join(await mkdtemp(join(tmpdir(), 'cloudtap-count-')), 'count.pcap'));
  const rows = await tsharkFields(fixed, `tcp.len > 0 && frame.number > ${afterPackets}`, ['tcp.len']);
  return rows.reduce((n, [len = '0']) => n + Number(len), 0);
}
