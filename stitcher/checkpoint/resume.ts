/**
 * Taking a checkpoint from a running stitcher and resuming from one.
 *
 * Per open flow, the point to hand its bytes again from is the lowest offset
 * not passed on for good: by flow reassembly, or by a stage downstream that
 * holds them (a key gate waiting for keys, a TLS decryptor inside a record).
 * Per gateway the resume position is the oldest object holding bytes from
 * those points on (or the next object, when none): a resume reads from there
 * again, each stage and synthesiser goes on from its own state and drops what
 * it had passed on, so nothing is exported twice and nothing held is lost.
 * Flows that closed in objects read again are remembered as closed, so their
 * FLOW_OPEN does not open them twice.
 *
 * A re-shard reads every shard's checkpoint and takes, per gateway it now
 * owns, the most advanced entry. Entries of gateways it does not own that it
 * found in its own shard's checkpoint are carried along unchanged, so handing
 * a gateway over never depends on which pod writes first.
 */
import type { FlowTable } from '../flow/flow-table.js';
import type { TcpSynthesizer } from '../flow/tcp-synthesizer.js';
import { CHECKPOINT_VERSION, mergeGateways, type Checkpoint, type FlowCheckpoint, type GatewayCheckpoint } from './checkpoint.js';
import type { ShardCheckpoint } from './checkpoint-store.js';
import type { FlowIdentity } from '../flow/events.js';
import { lowerOffsets, NOTHING_HELD, type StageJson, type StreamOffsets } from '../flow/resumable.js';
import type { ConnectionState } from '../flow/tcp-connection.js';
import { handedOn, type FlowLedger } from './flow-ledger.js';
import { flowOpenFromJson, flowOpenToJson, tcpFromJson, tcpToJson } from './flow-json.js';
import type { ObjectFeed } from '../ingest/object-feed.js';
import { ownsGateway, type ShardSpec } from '../shard/shard.js';

export interface ResumeParts {
  readonly shard: ShardSpec;
  readonly feed: ObjectFeed;
  readonly table: FlowTable;
  /** Every packet synthesiser of the export graph, in its order. */
  readonly synthesizers: readonly TcpSynthesizer[];
  readonly ledger: FlowLedger;
}


export interface ResumeSummary {
  readonly gateways: number;
  readonly flows: number;
  /** Entries of other shards' gateways kept in this shard's checkpoint. */
  readonly carried: Map<string, GatewayCheckpoint>;
  readonly newestExportedNs: bigint;
}

/** The checkpoint of the stitcher as it stands between two objects. */
export function takeCheckpoint(parts: ResumeParts, carried: ReadonlyMap<string, GatewayCheckpoint>, newestExportedNs: bigint): Checkpoint {
  const gateways: Record<string, GatewayCheckpoint> = Object.fromEntries(carried);
  const cursors = parts.feed.cursors();
  // Only objects read to their end count: a poll hands out more than the run may have read when it stops.
  for (const [gateway, readNext, nextSeq] of parts.ledger.positions()) {
    const cursor = { nextSeq, lastHour: cursors.get(gateway)?.lastHour };
    let resumeSeq = readNext;
    const flows: FlowCheckpoint[] = [];
    for (const flow of parts.table.openFlows(gateway)) {
      const key = flow.identity.key;
      const points = parts.ledger.stages.map((stage) => stage.resumePoint(gateway, key));
      const from = points.reduce((low, point) => lowerOffsets(low, point.heldFrom ?? [NOTHING_HELD, NOTHING_HELD]), handedOn(flow));
      const flowSeq = parts.ledger.takeResumeSeq(gateway, key, from);
      if (flowSeq < resumeSeq) resumeSeq = flowSeq;
      flows.push({
        ...flowCheckpoint(parts, gateway, flow.identity, from, parts.ledger.openSeqOf(gateway, key), (state) => (state === undefined ? null : tcpToJson(state))),
        lastTs: flow.lastTs.toString(),
        lastRecordTs: flow.lastRecordTs.toString(),
        ...withStages(points.map((point) => point.state ?? null)),
      });
    }
    // Closed, but held downstream (waiting for keys): carried as open from its start, so the stage gets it all again.
    for (const lingering of parts.ledger.sweepLingering(gateway)) {
      if (lingering.openSeq < resumeSeq) resumeSeq = lingering.openSeq;
      const points = parts.ledger.stages.map((stage) => stage.resumePoint(gateway, lingering.identity.key));
      flows.push({
        ...flowCheckpoint(parts, gateway, lingering.identity, [0, 0], lingering.openSeq, (state, i) => {
          if (state !== undefined) return tcpToJson(state);
          return lingering.hadConnection[i] === true ? 'closed' : null;
        }),
        lastTs: lingering.identity.open.tsNs.toString(),
        lastRecordTs: lingering.closeTsNs.toString(),
        ...withStages(points.map((point) => point.state ?? null)),
      });
    }
    gateways[gateway] = {
      resumeSeq: resumeSeq.toString(),
      nextSeq: cursor.nextSeq.toString(),
      ...(cursor.lastHour !== undefined ? { lastHour: cursor.lastHour } : {}),
      closed: parts.ledger.pruneToClosedSince(gateway, resumeSeq),
      flows,
    };
  }
  return {
    version: CHECKPOINT_VERSION,
    shard: { index: parts.shard.index, count: parts.shard.count },
    writtenAt: new Date().toISOString(),
    newestExportedNs: newestExportedNs.toString(),
    gateways,
  };
}

/**
 * Seeds the feed, the flow table, the synthesiser and the ledger from every shard
 * checkpoint found. `isRetired(lastHour)` tells a gateway whose last object is out
 * of the listing window: nothing of it can be read again, so it is left out.
 */
export function resumeFrom(parts: ResumeParts, found: readonly ShardCheckpoint[], isRetired: (lastHour: string) => boolean): ResumeSummary {
  const merged = mergeGateways(found.map((f) => f.checkpoint));
  const own = found.find((f) => f.index === parts.shard.index)?.checkpoint;
  const carried = new Map<string, GatewayCheckpoint>();
  let gateways = 0;
  let flows = 0;
  for (const [gateway, entry] of merged) {
    if (entry.lastHour !== undefined && isRetired(entry.lastHour)) continue;
    if (!ownsGateway(parts.shard, gateway)) {
      if (own?.gateways[gateway] !== undefined) carried.set(gateway, entry);
      continue;
    }
    gateways++;
    flows += resumeGateway(parts, gateway, entry);
  }
  let newestExportedNs = 0n;
  for (const { checkpoint } of found) {
    const newest = BigInt(checkpoint.newestExportedNs ?? '0');
    if (newest > newestExportedNs) newestExportedNs = newest;
  }
  return { gateways, flows, carried, newestExportedNs };
}

type TcpEntry = NonNullable<FlowCheckpoint['tcp']>[number];

/** What every carried flow holds: its FLOW_OPEN, where to hand it from again, and each synthesiser's connection. */
function flowCheckpoint(
  parts: ResumeParts, gateway: string, identity: FlowIdentity, from: StreamOffsets, openSeq: bigint,
  tcpEntry: (state: ConnectionState | undefined, synthesizer: number) => TcpEntry,
): Pick<FlowCheckpoint, 'open' | 'exported' | 'openSeq' | 'tcp'> {
  const tcp = parts.synthesizers.map((synthesizer, i) => tcpEntry(synthesizer.connectionState(gateway, identity.key), i));
  return {
    open: flowOpenToJson(identity.open),
    exported: [from[0], from[1]],
    openSeq: openSeq.toString(),
    ...(tcp.some((t) => t !== null) ? { tcp } : {}),
  };
}

function withStages(stages: (StageJson | null)[]): Pick<FlowCheckpoint, 'stages'> {
  return stages.some((s) => s !== null) ? { stages } : {};
}

/**
 * Tells every stage and synthesiser how the flow goes on. When the outputs changed
 * since the checkpoint (other groups, other stages), the synthesisers go on from
 * the offsets alone and the stages afresh.
 */
function expectResumeDownstream(parts: ResumeParts, gateway: string, flow: FlowCheckpoint, exported: StreamOffsets): void {
  // No list: no synthesiser had a connection for the flow.
  const tcp = flow.tcp ?? parts.synthesizers.map(() => null);
  const states = tcp.length === parts.synthesizers.length ? tcp : undefined;
  parts.synthesizers.forEach((synthesizer, i) => {
    const state = states === undefined ? undefined : states[i];
    if (state === null) return; // it had no connection yet: a handshake when the flow reaches it
    synthesizer.expectResume(gateway, flow.open.id, state === 'closed' ? 'closed' : { exported, ...(state === undefined ? {} : { state: tcpFromJson(state) }) });
  });
  const stages = parts.ledger.stages;
  const stageStates = flow.stages?.length === stages.length ? flow.stages : undefined;
  stages.forEach((stage, i) => stage.expectResume(gateway, flow.open.id, stageStates?.[i] ?? undefined));
}

function resumeGateway(parts: ResumeParts, gateway: string, entry: GatewayCheckpoint): number {
  const resumeSeq = BigInt(entry.resumeSeq);
  parts.feed.seed(gateway, { nextSeq: resumeSeq, ...(entry.lastHour !== undefined ? { lastHour: entry.lastHour } : {}) });
  parts.ledger.resumedGateway(gateway, resumeSeq, BigInt(entry.nextSeq));
  // They closed before nextSeq: keep them while a resume may read their objects again.
  parts.ledger.resumedClosed(gateway, entry.closed, BigInt(entry.nextSeq) - 1n);
  parts.table.markClosed(gateway, entry.closed);
  for (const flow of entry.flows) {
    const exported = [flow.exported[0], flow.exported[1]] as const;
    expectResumeDownstream(parts, gateway, flow, exported);
    // Announces the flow down the export graph: each stage and synthesiser picks up its state, no handshake.
    parts.table.resumeFlow(gateway, {
      open: flowOpenFromJson(flow.open), exported, lastTs: BigInt(flow.lastTs), lastRecordTs: BigInt(flow.lastRecordTs),
    });
    parts.ledger.resumed(gateway, flow.open.id, BigInt(flow.openSeq), exported, resumeSeq);
  }
  return entry.flows.length;
}
