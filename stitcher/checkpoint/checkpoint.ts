/**
 * The checkpoint of one shard: versioned JSON, small enough for a ConfigMap.
 * Per gateway, where its stream stands (the <seq> to read from again and the
 * next one never read) and the flows a reader must know to go on without
 * loss or repeats: every open flow (its FLOW_OPEN, how far each direction
 * was exported, the TCP state of its synthesised connection) and the flows
 * closed in the objects that a resume reads again. See docs/shards.md.
 *
 * Numbers that may exceed 2^53 (times, <seq>) are decimal strings.
 */
import type { StageJson } from '../flow/resumable.js';
import type { ShardSpec } from '../shard/shard.js';

export const CHECKPOINT_VERSION = 1;

/** A ConfigMap holds at most 1 MiB; leave room for its metadata. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 900 * 1024;

export interface Checkpoint {
  readonly version: typeof CHECKPOINT_VERSION;
  readonly shard: ShardSpec;
  /** ISO 8601, when it was taken. */
  readonly writtenAt: string;
  /** Newest record time exported (ns, decimal), for the lag after a resume. */
  readonly newestExportedNs?: string;
  readonly gateways: Readonly<Record<string, GatewayCheckpoint>>;
  /**
   * Packets each output of the run had taken (and flushed) when it was taken. Not
   * read on resume: what a run killed later exported past these counts is what
   * its successor may export again.
   */
  readonly outputs?: readonly OutputPosition[];
}

export interface OutputPosition {
  readonly output: string;
  readonly packets: number;
}

export interface GatewayCheckpoint {
  /** The <seq> a resume reads from: the oldest object holding bytes not exported yet. */
  readonly resumeSeq: string;
  /** The next <seq> never read; objects from resumeSeq up to it are read again on resume. */
  readonly nextSeq: string;
  /** Hour prefix (`yyyy/mm/dd/hh/`) of the last object read, for retiring quiet gateways. */
  readonly lastHour?: string;
  /** Flow ids (hex) closed in objects a resume reads again: their records are skipped. */
  readonly closed: readonly string[];
  readonly flows: readonly FlowCheckpoint[];
}

export interface FlowCheckpoint {
  readonly open: FlowOpenJson;
  /** Stream offsets up to which each direction was handed on (client-to-server, server-to-client). */
  readonly exported: readonly [number, number];
  /** Time (ns) of the last event handed on: later ones never go before it. */
  readonly lastTs: string;
  /** Latest record time seen (ns). */
  readonly lastRecordTs: string;
  /** The <seq> of the object with the flow's FLOW_OPEN. */
  readonly openSeq: string;
  /**
   * The synthesised connection of each packet synthesiser (one per group of outputs
   * that want the same packets, in the export graph's order); null where a
   * synthesiser has no connection for the flow yet (not selected, held for its
   * keys, not decrypted yet): a resume starts it with a handshake; 'closed' where
   * it closed it already (the flow is only carried over for a stage that holds it).
   */
  readonly tcp?: readonly (TcpJson | null | 'closed')[];
  /**
   * What each flow stage (key gates, TLS decryptors, in the export graph's order)
   * goes on from; null where it starts the flow afresh. See flow/resumable.ts.
   */
  readonly stages?: readonly (StageJson | null)[];
}

export interface FlowOpenJson {
  /** 32 hex characters. */
  readonly id: string;
  readonly ts: string;
  readonly ip: 4 | 6;
  readonly l4: number;
  /** Hex, network byte order. */
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
  readonly tags?: Readonly<Record<string, string | number>>;
}

export interface TcpJson {
  readonly lastTs: string;
  readonly client: EndpointJson;
  readonly server: EndpointJson;
}

/** [sendNext, seenNext, acked, window, ipId] of one end (relative sequence numbers). */
export type EndpointJson = readonly [number, number, number, number, number];

export interface EncodedCheckpoint {
  readonly text: string;
  /** Open flows left out to stay under the size bound (they cannot be resumed). */
  readonly flowsLeftOut: number;
}

/**
 * The checkpoint as JSON text of at most `maxBytes`: when it would be larger, the
 * open flows idle longest are left out (and counted) until it fits.
 * @throws Error when even without any flow it is over the bound (too many gateways)
 */
export function encodeCheckpoint(checkpoint: Checkpoint, maxBytes = DEFAULT_MAX_CHECKPOINT_BYTES): EncodedCheckpoint {
  let text = JSON.stringify(checkpoint);
  if (Buffer.byteLength(text) <= maxBytes) return { text, flowsLeftOut: 0 };
  const all = Object.entries(checkpoint.gateways).flatMap(([gateway, g]) => g.flows.map((flow) => ({ gateway, flow, size: JSON.stringify(flow).length + 1 })));
  all.sort((a, b) => compareDecimal(a.flow.lastRecordTs, b.flow.lastRecordTs));
  let excess = Buffer.byteLength(text) - maxBytes;
  const leftOut = new Set<FlowCheckpoint>();
  for (const entry of all) {
    if (excess <= 0) break;
    leftOut.add(entry.flow);
    excess -= entry.size;
  }
  const gateways: Record<string, GatewayCheckpoint> = {};
  for (const [gateway, g] of Object.entries(checkpoint.gateways)) gateways[gateway] = { ...g, flows: g.flows.filter((f) => !leftOut.has(f)) };
  text = JSON.stringify({ ...checkpoint, gateways });
  if (Buffer.byteLength(text) > maxBytes) {
    throw new Error(`while encoding the checkpoint of shard ${checkpoint.shard.index}/${checkpoint.shard.count}: ${Object.keys(gateways).length} gateways need ${Buffer.byteLength(text)} bytes even without open flows, over the bound of ${maxBytes}`);
  }
  return { text, flowsLeftOut: leftOut.size };
}

/**
 * Parses and checks a checkpoint.
 * @param where names it in errors (`file:///var/lib/cloudtap/shard-0.json`)
 * @throws Error naming `where` and the field at fault, or a version this reader does not know
 */
export function decodeCheckpoint(text: string, where: string): Checkpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`checkpoint ${where} is not JSON: ${(error as Error).message}`);
  }
  const check = new Checker(where);
  const root = check.object(parsed, '');
  const version = check.number(root.version, 'version');
  if (version !== CHECKPOINT_VERSION) throw new Error(`checkpoint ${where} has version ${version}; this stitcher reads version ${CHECKPOINT_VERSION}`);
  const shard = check.object(root.shard, 'shard');
  const gateways = check.object(root.gateways, 'gateways');
  for (const [name, value] of Object.entries(gateways)) checkGateway(check, value, `gateways.${name}`);
  check.string(root.writtenAt, 'writtenAt');
  check.number(shard.index, 'shard.index');
  check.number(shard.count, 'shard.count');
  return parsed as Checkpoint;
}

function checkGateway(check: Checker, value: unknown, at: string): void {
  const g = check.object(value, at);
  check.decimal(g.resumeSeq, `${at}.resumeSeq`);
  check.decimal(g.nextSeq, `${at}.nextSeq`);
  if (BigInt(g.resumeSeq as string) > BigInt(g.nextSeq as string)) throw check.fail(`${at}.resumeSeq`, 'is after nextSeq');
  check.array(g.closed, `${at}.closed`).forEach((id, i) => check.hex(id, `${at}.closed[${i}]`, 32));
  check.array(g.flows, `${at}.flows`).forEach((flow, i) => checkFlow(check, flow, `${at}.flows[${i}]`));
}

function checkFlow(check: Checker, value: unknown, at: string): void {
  const flow = check.object(value, at);
  const open = check.object(flow.open, `${at}.open`);
  check.hex(open.id, `${at}.open.id`, 32);
  check.decimal(open.ts, `${at}.open.ts`);
  const ip = check.number(open.ip, `${at}.open.ip`);
  if (ip !== 4 && ip !== 6) throw check.fail(`${at}.open.ip`, 'is not 4 or 6');
  check.hex(open.client, `${at}.open.client`, ip === 4 ? 8 : 32);
  check.hex(open.server, `${at}.open.server`, ip === 4 ? 8 : 32);
  check.number(open.clientPort, `${at}.open.clientPort`);
  check.number(open.serverPort, `${at}.open.serverPort`);
  const exported = check.array(flow.exported, `${at}.exported`);
  if (exported.length !== 2) throw check.fail(`${at}.exported`, 'does not hold two offsets');
  exported.forEach((n, i) => check.number(n, `${at}.exported[${i}]`));
  check.decimal(flow.lastTs, `${at}.lastTs`);
  check.decimal(flow.lastRecordTs, `${at}.lastRecordTs`);
  check.decimal(flow.openSeq, `${at}.openSeq`);
  if (flow.tcp !== undefined) check.array(flow.tcp, `${at}.tcp`).forEach((tcp, i) => checkTcp(check, tcp, `${at}.tcp[${i}]`));
  // A stage checks its own state when it resumes from it.
  if (flow.stages !== undefined) check.array(flow.stages, `${at}.stages`);
}

function checkTcp(check: Checker, value: unknown, at: string): void {
  if (value === null || value === 'closed') return;
  const tcp = check.object(value, at);
  check.decimal(tcp.lastTs, `${at}.lastTs`);
  for (const end of ['client', 'server']) {
    const fields = check.array(tcp[end], `${at}.${end}`);
    if (fields.length !== 5) throw check.fail(`${at}.${end}`, 'does not hold 5 numbers');
    fields.forEach((n, i) => check.number(n, `${at}.${end}[${i}]`));
  }
}

class Checker {
  constructor(private readonly where: string) {}

  fail(field: string, problem: string): Error {
    return new Error(`checkpoint ${this.where}: ${field === '' ? 'the document' : field} ${problem}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.fail(field, 'is not an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(field, 'is not a list');
    return value;
  }

  number(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw this.fail(field, 'is not a whole number');
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') throw this.fail(field, 'is not a string');
    return value;
  }

  decimal(value: unknown, field: string): void {
    if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) throw this.fail(field, 'is not a decimal string');
  }

  hex(value: unknown, field: string, length: number): void {
    if (typeof value !== 'string' || value.length !== length || !/^[0-9a-f]*$/.test(value)) throw this.fail(field, `is not ${length} hex digits`);
  }
}

function compareDecimal(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * For each gateway the most advanced entry among several checkpoints (a re-shard
 * reads every shard's): positions only move forward, so the highest nextSeq is the
 * newest; a tie goes to the checkpoint written last.
 */
export function mergeGateways(checkpoints: readonly Checkpoint[]): Map<string, GatewayCheckpoint> {
  const best = new Map<string, { entry: GatewayCheckpoint; writtenAt: string }>();
  for (const checkpoint of checkpoints) {
    for (const [gateway, entry] of Object.entries(checkpoint.gateways)) {
      const current = best.get(gateway);
      const order = current === undefined ? 1 : compareDecimal(entry.nextSeq, current.entry.nextSeq);
      if (order > 0 || (order === 0 && checkpoint.writtenAt > current!.writtenAt)) best.set(gateway, { entry, writtenAt: checkpoint.writtenAt });
    }
  }
  return new Map([...best].map(([gateway, { entry }]) => [gateway, entry]));
}
