/**
 * tshark as the judge of every capture the project writes: malformed packets,
 * bad checksums, TCP expert warnings, and the HTTP objects it can carve out.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath, runOk } from './run.js';
import { sha256 } from './sha.js';

/** Expert severities of Wireshark (epan/proto.h): warning and above. */
const PI_WARN = 0x00600000;

export interface TsharkOptions {
  /** An NSS key log file for TLS decryption (pcapng with a DSB needs none). */
  readonly keylog?: string;
  /** More `-o name:value` preferences. */
  readonly prefs?: readonly string[];
  /** More tshark arguments, e.g. `-d udp.port==24899,vxlan`. */
  readonly extraArgs?: readonly string[];
}

export function haveTshark(): boolean {
  return onPath('tshark');
}

function prefArgs(options: TsharkOptions): string[] {
  const prefs = ['tcp.check_checksum:TRUE', 'ip.check_checksum:TRUE', 'tcp.analyze_sequence_numbers:TRUE', ...(options.prefs ?? [])];
  if (options.keylog !== undefined) prefs.push(`tls.keylog_file:${options.keylog}`);
  return [...prefs.flatMap((pref) => ['-o', pref]), ...(options.extraArgs ?? [])];
}

/** Rows of `-T fields` output, tab separated, for packets matching a display filter. */
export async function tsharkFields(file: string, filter: string, fields: readonly string[], options: TsharkOptions = {}): Promise<string[][]> {
  const args = ['-r', file, '-n', ...prefArgs(options), '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (filter !== '') args.push('-Y', filter);
  for (const field of fields) args.push('-e', field);
  const { stdout } = await runOk('tshark', args, { timeoutMs: 300_000 });
  return stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

export interface CaptureProblem {
  readonly frame: number;
  readonly messages: string;
}

/** Frames that are malformed, have a bad checksum, or carry an expert warning or error. */
export async function captureProblems(file: string, options: TsharkOptions = {}): Promise<CaptureProblem[]> {
  const filter = `_ws.malformed || _ws.expert.severity >= ${PI_WARN} || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad"`;
  const rows = await tsharkFields(file, filter, ['frame.number', '_ws.expert.message'], options);
  return rows.map(([frame, messages]) => ({ frame: Number(frame), messages: messages ?? '' }));
}

export interface ExportedObject {
  /** The file name tshark gave it (from the URL). */
  readonly name: string;
  readonly bytes: Buffer;
}

/** Every object tshark's `--export-objects` carves out for a protocol (http, ...). */
export async function exportedObjects(file: string, protocol = 'http', options: TsharkOptions = {}): Promise<ExportedObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-objects-'));
  try {
    await runOk('tshark', ['-r', file, '-n', ...prefArgs(options), '-q', '--export-objects', `${protocol},${dir}`], { timeoutMs: 300_000 });
    const names = (await readdir(dir)).sort();
    return await Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(dir, name)) })));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** sha256 of every object tshark's `--export-objects` carves out for a protocol (http, ...), sorted. */
export async function exportedObjectHashes(file: string, protocol = 'http', options: TsharkOptions = {}): Promise<string[]> {
  return (await exportedObjects(file, protocol, options)).map((object) => sha256(object.bytes)).sort();
}

/** Packet count per protocol hierarchy is too coarse; this counts frames matching a filter. */
export async function countFrames(file: string, filter: string, options: TsharkOptions = {}): Promise<number> {
  return (await tsharkFields(file, filter, ['frame.number'], options)).length;
}

/** The bytes of each direction of each TCP stream, by stream number, as `-z follow,tcp,raw` gives them back. */
export async function followTcpRaw(file: string, streams: readonly number[], options: TsharkOptions = {}): Promise<Map<number, { client: Buffer; server: Buffer }>> {
  const args = ['-r', file, '-n', ...prefArgs(options), '-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])];
  const { stdout } = await runOk('tshark', args, { timeoutMs: 300_000 });
  const result = new Map<number, { client: Buffer; server: Buffer }>();
  for (const section of stdout.split(/^=+$/m)) {
    const stream = /^Filter: tcp\.stream eq (\d+)$/m.exec(section);
    if (stream === null) continue;
    const client: Buffer[] = [];
    const server: Buffer[] = [];
    for (const line of section.split('\n')) {
      if (/^\t[0-9a-f]+$/.test(line)) server.push(Buffer.from(line.slice(1), 'hex'));
      else if (/^[0-9a-f]+$/.test(line)) client.push(Buffer.from(line, 'hex'));
    }
    result.set(Number(stream[1]), { client: Buffer.concat(client), server: Buffer.concat(server) });
  }
  return result;
}
