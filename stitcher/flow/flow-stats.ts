/** The flow table's counters: plain numbers, read by metrics and the run summary. */

export interface FlowTableStats {
  flowsOpened: number;
  flowsClosed: number;
  /** Of those, closed by the stitcher: idle too long, or their gateway went quiet for good (FLOW_CLOSE lost). */
  flowsClosedIdle: number;
  /** Flows open right now. */
  flowsOpen: number;
  /** DATA bytes accepted (after duplicates and overlaps were cut away). */
  bytesIn: number;
  /** DATA bytes handed on to the consumer. */
  bytesOut: number;
  /** DATA records or pieces that added nothing new. */
  duplicateChunks: number;
  duplicateBytes: number;
  /** Bytes cut from DATA that partly overlapped what was already there (or ran past FLOW_CLOSE's length). */
  overlapBytesTrimmed: number;
  /** Holes reported: GAP records and bytes that never arrived. */
  holes: number;
  gapHoleBytes: number;
  missingHoleBytes: number;
  /** DATA, GAP or FLOW_CLOSE for a flow never opened (dropped at the end of their object). */
  orphanRecords: number;
  orphanBytes: number;
  /** Records for a flow already closed (a repeated object), dropped. */
  lateRecords: number;
  /** Flushes forced by maxFlowBufferBytes and by maxTotalBufferBytes. */
  forcedFlushesFlowCap: number;
  forcedFlushesTotalCap: number;
  /** Bytes held now, waiting for earlier bytes or for their FLOW_OPEN. */
  bufferedBytes: number;
}

export function emptyFlowTableStats(): FlowTableStats {
  return {
    flowsOpened: 0, flowsClosed: 0, flowsClosedIdle: 0, flowsOpen: 0, bytesIn: 0, bytesOut: 0,
    duplicateChunks: 0, duplicateBytes: 0, overlapBytesTrimmed: 0,
    holes: 0, gapHoleBytes: 0, missingHoleBytes: 0,
    orphanRecords: 0, orphanBytes: 0, lateRecords: 0,
    forcedFlushesFlowCap: 0, forcedFlushesTotalCap: 0, bufferedBytes: 0,
  };
}
