/**
 * Taking a checkpoint from a running stitcher and resuming from one.
 *
 * Per gateway the resume position is the oldest object still holding bytes of
 * an open flow that were not handed on (or the next object, when none): a
 * resume reads from there again, and the flows carried over drop every byte
 * below the offsets they had exported, so nothing is exported twice and
 * nothing buffered is lost. Flows that closed in objects read again are
 * remembered as closed, so their FLOW_OPEN does not open them twice.
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
import type { FlowLedger } from './flow-ledger.js';
import { flowOpenFromJson, flowOpenToJson, tcpFromJson, tcpToJson } from './flow-json.js';
import type { ObjectFeed } from './object-feed.js';
import { ownsGateway, type ShardSpec } from './shard.js';

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
      const pending = parts.ledger.pendingSinceOf(gateway, key);
      if (pending !== undefined && pending < resumeSeq) resumeSeq = pending;
      const tcp = parts.synthesizers.map((synthesizer) => {
        const state = synthesizer.connectionState(gateway, key);
        return state === undefined ? null : tcpToJson(state);
      });
      flows.push({
        open: flowOpenToJson(flow.identity.open),
        exported: [flow.directions[0].next, flow.directions[1].next],
        lastTs: flow.lastTs.toString(),
        lastRecordTs: flow.lastRecordTs.toString(),
        openSeq: parts.ledger.openSeqOf(gateway, key).toString(),
        ...(tcp.some((t) => t !== null) ? { tcp } : {}),
      });
    }
    gateways[gateway] = {
      resumeSeq: resumeSeq.toString(),
      nextSeq: cursor.nextSeq.toString(),
      ...(cursor.lastHour !== undefined ? { lastHour: cursor.lastHour } : {}),
      closed: parts.ledger.closedSince(gateway, resumeSeq),
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

function resumeGateway(parts: ResumeParts, gateway: string, entry: GatewayCheckpoint): number {
  const resumeSeq = BigInt(entry.resumeSeq);
  parts.feed.seed(gateway, { nextSeq: resumeSeq, ...(entry.lastHour !== undefined ? { lastHour: entry.lastHour } : {}) });
  parts.ledger.resumedGateway(gateway, resumeSeq, BigInt(entry.nextSeq));
  // They closed before nextSeq: keep them while a resume may read their objects again.
  parts.ledger.resumedClosed(gateway, entry.closed, BigInt(entry.nextSeq) - 1n);
  parts.table.markClosed(gateway, entry.closed);
  for (const flow of entry.flows) {
    const exported = [flow.exported[0], flow.exported[1]] as const;
    // Outputs changed since the checkpoint: the synthesisers go on from the exported offsets alone.
    const states = flow.tcp?.length === parts.synthesizers.length ? flow.tcp : undefined;
    parts.synthesizers.forEach((synthesizer, i) => {
      const state = states?.[i];
      synthesizer.expectResume(gateway, flow.open.id, state === undefined || state === null ? { exported } : { exported, state: tcpFromJson(state) });
    });
    // Announces the flow down the export graph: each synthesiser picks up its state, no handshake.
    parts.table.resumeFlow(gateway, {
      open: flowOpenFromJson(flow.open), exported, lastTs: BigInt(flow.lastTs), lastRecordTs: BigInt(flow.lastRecordTs),
    });
    parts.ledger.resumed(gateway, flow.open.id, BigInt(flow.openSeq), undefined);
  }
  return entry.flows.length;
}
