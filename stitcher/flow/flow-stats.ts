/**
 * The flow table's counters: plain numbers, read by metrics and the run summary.
 * The byte counters add up every direction's account (see DirectionAccount):
 * tapped = exported + duplicate + trimmed + late + bytes still held in flows.
 */
import type { DirectionAccount } from './direction-buffer.js';

export interface FlowTableStats extends DirectionAccount {
  flowsOpened: number;
  flowsClosed: number;
  /** Of those, closed by the stitcher: idle too long, or their gateway went quiet for good (FLOW_CLOSE lost). */
  flowsClosedIdle: number;
  /** Flows open right now. */
  flowsOpen: number;
  /** Flows closed to stay under --max-open-flows, and under the memory budget (the quietest first). */
  flowsClosedForFlowCap: number;
  flowsClosedForMemory: number;
  /** Records waiting for their FLOW_OPEN dropped to stay under the memory budget (also counted as orphans). */
  earlyDroppedForMemory: number;
  /** Hole bytes the gateway reported (GAP records) and hole bytes that never arrived. */
  gapHoleBytes: number;
  missingHoleBytes: number;
  /** DATA, GAP or FLOW_CLOSE for a flow never opened (dropped at the end of their object). */
  orphanRecords: number;
  orphanBytes: number;
  /** Records for a flow already closed (a repeated object, or bytes after FLOW_CLOSE's object), dropped. */
  lateRecords: number;
  lateRecordBytes: number;
  /** Records refused as impossible (an offset or length past 2^53), dropped. */
  invalidRecords: number;
  /**
   * Releases a memory cap forced before the reorder window had passed: bytes
   * handed on without waiting for the other direction's earlier bytes
   * (released), or with missing bytes given up as holes (flushed).
   */
  forcedReleases: number;
  forcedFlushesFlowCap: number;
  forcedFlushesTotalCap: number;
  /** DATA payload bytes held now: out of order, inside the reorder window, or waiting for their FLOW_OPEN. */
  bufferedBytes: number;
  /** Chunks, GAP marks and early records held now (each costs bookkeeping memory beside its bytes). */
  heldItems: number;
}

export function emptyFlowTableStats(): FlowTableStats {
  return {
    flowsOpened: 0, flowsClosed: 0, flowsClosedIdle: 0, flowsOpen: 0, flowsClosedForFlowCap: 0, flowsClosedForMemory: 0, earlyDroppedForMemory: 0,
    tapped: 0, exported: 0, duplicate: 0, trimmed: 0, late: 0, holeBytes: 0, holes: 0,
    gapHoleBytes: 0, missingHoleBytes: 0,
    orphanRecords: 0, orphanBytes: 0, lateRecords: 0, lateRecordBytes: 0, invalidRecords: 0,
    forcedReleases: 0, forcedFlushesFlowCap: 0, forcedFlushesTotalCap: 0, bufferedBytes: 0, heldItems: 0,
  };
}
