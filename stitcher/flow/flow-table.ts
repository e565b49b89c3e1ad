/**
 * Flow reassembly: decoded CTAP records in, per flow one `open`, the bytes of
 * both directions in order and merged by time, holes, and one `close` out to a
 * FlowConsumer. Records come per gateway in <seq> order, within an object in
 * any order. Memory is bounded by FlowLimits: a cap that is hit gives up
 * waiting for missing bytes and counts a forced flush.
 */
import { RecordType, type CtapRecord, type DataRecord, type FlowCloseRecord, type FlowOpenRecord, type GapRecord } from '../format/records.js';
import type { FlowConsumer, FlowIdentity } from './events.js';
import { emptyFlowTableStats, type FlowTableStats } from './flow-stats.js';
import { FlowState } from './flow-state.js';
import type { Placement } from './direction-buffer.js';
import { RecentKeys } from './recent-keys.js';
import { TimeQueue } from './time-queue.js';

export interface FlowLimits {
  /** Bytes one flow may hold waiting for missing earlier bytes. @default 8 MiB */
  readonly maxFlowBufferBytes: number;
  /** Bytes all flows together may hold. @default 256 MiB */
  readonly maxTotalBufferBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  maxFlowBufferBytes: 8 * 1024 * 1024,
  maxTotalBufferBytes: 256 * 1024 * 1024,
};

/** An open flow as a checkpoint carries it over. */
export interface ResumedFlow {
  readonly open: FlowOpenRecord;
  /** Stream offsets handed on per direction (client-to-server, server-to-client). */
  readonly exported: readonly [number, number];
  readonly lastTs: bigint;
  readonly lastRecordTs: bigint;
}

/** Closed flows remembered per gateway, so a repeated object does not reopen them. */
const RECENTLY_CLOSED_PER_GATEWAY = 65536;

type EarlyRecord = DataRecord | GapRecord | FlowCloseRecord;

interface GatewayFlows {
  readonly flows: Map<string, FlowState>;
  /** Records of the current object whose FLOW_OPEN has not come yet (DATA payloads copied). */
  readonly early: Map<string, EarlyRecord[]>;
  /** Flows whose FLOW_CLOSE came in the current object: complete when it ends. */
  readonly closing: Set<FlowState>;
  readonly closed: RecentKeys;
  /** The latest record time of the gateway: its own clock, for idle flows. */
  newestRecordTs: bigint;
  /** `newestRecordTs` when idle flows were last looked for. */
  idleCheckedTs: bigint;
}

export class FlowTable {
  readonly stats: FlowTableStats = emptyFlowTableStats();
  private readonly limits: FlowLimits;
  private readonly gateways = new Map<string, GatewayFlows>();
  private readonly touched = new Set<FlowState>();
  private readonly placement: Placement = { accepted: 0, duplicateBytes: 0, trimmedBytes: 0 };
  private readonly readyQueue = new TimeQueue<FlowState>();

  constructor(private readonly consumer: FlowConsumer, limits?: Partial<FlowLimits>) {
    this.limits = {
      maxFlowBufferBytes: limits?.maxFlowBufferBytes ?? DEFAULT_FLOW_LIMITS.maxFlowBufferBytes,
      maxTotalBufferBytes: limits?.maxTotalBufferBytes ?? DEFAULT_FLOW_LIMITS.maxTotalBufferBytes,
    };
  }

  /**
   * Places every record of one decoded block, then hands on what is ready.
   * DATA payloads may be views into the block: what is still held afterwards is copied.
   */
  ingestBlock(gateway: string, records: readonly CtapRecord[]): void {
    const flows = this.gatewayFlows(gateway);
    const ordered = inTimeOrder(records);
    for (const record of ordered) {
      if (record.type === RecordType.FlowOpen) this.open(gateway, flows, record);
      else if (record.type !== RecordType.TlsKeys) this.route(flows, record);
    }
    const newest = ordered.at(-1)?.tsNs;
    if (newest !== undefined && newest > flows.newestRecordTs) flows.newestRecordTs = newest;
    this.handOnReady();
    for (const flow of this.touched) {
      for (const direction of flow.directions) direction.keepViews();
      if (flow.bufferedBytes > this.limits.maxFlowBufferBytes) {
        flow.drain('flush', this.consumer, this.stats);
        this.stats.forcedFlushesFlowCap++;
      }
    }
    this.touched.clear();
    if (this.stats.bufferedBytes > this.limits.maxTotalBufferBytes) this.relieveTotal();
  }

  /**
   * Hands on what is ready in the flows this block touched, all of them merged
   * by time, so packets of different flows come out in time order too.
   */
  private handOnReady(): void {
    if (this.touched.size === 1) {
      for (const flow of this.touched) flow.drain('ready', this.consumer, this.stats);
      return;
    }
    const queue = this.readyQueue;
    for (const flow of this.touched) {
      const ts = flow.nextReadyTs();
      if (ts !== undefined) queue.push(flow, ts);
    }
    for (let flow = queue.pop(); flow !== undefined; flow = queue.pop()) {
      flow.takeNext(this.consumer, this.stats);
      const ts = flow.nextReadyTs();
      if (ts !== undefined) queue.push(flow, ts);
    }
  }

  /**
   * The gateway's current object is over: flows closed in it are complete
   * (missing bytes become holes, then the close), and records still waiting for
   * a FLOW_OPEN are orphans.
   */
  endOfObject(gateway: string): void {
    const flows = this.gateways.get(gateway);
    if (flows === undefined) return;
    for (const flow of flows.closing) this.finish(flows, flow);
    flows.closing.clear();
    this.dropEarly(flows);
  }

  /** End of a run: every flow is flushed (missing bytes as holes) and closed. */
  closeAll(): void {
    for (const flows of this.gateways.values()) {
      this.dropEarly(flows);
      for (const flow of flows.flows.values()) this.finish(flows, flow);
      flows.closing.clear();
    }
  }

  /**
   * Closes (reason undefined, missing bytes as holes) the flows of `gateway`
   * that have had no record for `idleNs` of the gateway's own record time: their
   * FLOW_CLOSE was lost. Looks at most every sixteenth of `idleNs`, at an object
   * boundary. Returns how many flows it closed.
   */
  closeIdle(gateway: string, idleNs: bigint): number {
    const flows = this.gateways.get(gateway);
    if (flows === undefined || flows.newestRecordTs - flows.idleCheckedTs < idleNs / 16n) return 0;
    flows.idleCheckedTs = flows.newestRecordTs;
    const before = flows.newestRecordTs - idleNs;
    let closed = 0;
    for (const flow of [...flows.flows.values()]) {
      if (flow.lastRecordTs >= before || flows.closing.has(flow)) continue;
      this.finish(flows, flow);
      closed++;
    }
    this.stats.flowsClosedIdle += closed;
    return closed;
  }

  /** Closes every flow of a gateway that went quiet for good (nothing of it can be read any more). */
  closeGateway(gateway: string): number {
    const flows = this.gateways.get(gateway);
    if (flows === undefined) return 0;
    this.dropEarly(flows);
    const open = [...flows.flows.values()];
    for (const flow of open) this.finish(flows, flow);
    flows.closing.clear();
    this.stats.flowsClosedIdle += open.length;
    return open.length;
  }

  /** The open flows of a gateway, for a checkpoint (taken between objects). */
  openFlows(gateway: string): IterableIterator<FlowState> {
    return (this.gateways.get(gateway)?.flows ?? new Map<string, FlowState>()).values();
  }

  openFlowCount(gateway: string): number {
    return this.gateways.get(gateway)?.flows.size ?? 0;
  }

  /** Forgets a gateway that has no open flow (retired: quiet for good). */
  forgetGateway(gateway: string): void {
    if (this.openFlowCount(gateway) === 0) this.gateways.delete(gateway);
  }

  /** Flows a checkpoint says were closed: their records, read again, are dropped as late. */
  markClosed(gateway: string, keys: readonly string[]): void {
    const flows = this.gatewayFlows(gateway);
    for (const key of keys) flows.closed.add(key);
  }

  /**
   * Opens a flow carried over from a checkpoint and announces it to the consumer
   * at once (a synthesiser that expects it goes on without a handshake). Bytes
   * below its exported offsets that are read again are dropped as duplicates.
   */
  resumeFlow(gateway: string, resumed: ResumedFlow): FlowIdentity {
    const flows = this.gatewayFlows(gateway);
    const key = resumed.open.flowId.toString('hex');
    const flow = new FlowState({ key, gateway, open: resumed.open });
    flow.resumeAt(resumed.exported, resumed.lastTs, resumed.lastRecordTs);
    flows.flows.set(key, flow);
    this.stats.flowsOpen++;
    flow.announce(this.consumer);
    return flow.identity;
  }

  private gatewayFlows(gateway: string): GatewayFlows {
    let flows = this.gateways.get(gateway);
    if (flows === undefined) {
      flows = {
        flows: new Map(), early: new Map(), closing: new Set(), closed: new RecentKeys(RECENTLY_CLOSED_PER_GATEWAY), newestRecordTs: 0n, idleCheckedTs: 0n,
      };
      this.gateways.set(gateway, flows);
    }
    return flows;
  }

  private open(gateway: string, flows: GatewayFlows, record: FlowOpenRecord): void {
    const key = record.flowId.toString('hex');
    if (flows.flows.has(key) || flows.closed.has(key)) return;
    // The record's buffers may be views into the block: the flow outlives it.
    const kept = { ...record, flowId: Buffer.from(record.flowId), clientIp: Buffer.from(record.clientIp), serverIp: Buffer.from(record.serverIp) };
    const flow = new FlowState({ key, gateway, open: kept });
    flows.flows.set(key, flow);
    this.stats.flowsOpened++;
    this.stats.flowsOpen++;
    this.touched.add(flow);
    const early = flows.early.get(key);
    if (early === undefined) return;
    flows.early.delete(key);
    for (const record of early) {
      if (record.type === RecordType.Data) this.stats.bufferedBytes -= record.payload.length;
      this.apply(flows, flow, record, true);
    }
  }

  private route(flows: GatewayFlows, record: EarlyRecord): void {
    const key = record.flowId.toString('hex');
    const flow = flows.flows.get(key);
    if (flow !== undefined) {
      this.apply(flows, flow, record, false);
      this.touched.add(flow);
    } else if (flows.closed.has(key)) {
      this.stats.lateRecords++;
    } else {
      this.holdEarly(flows, key, record);
    }
  }

  /** Keeps a record until its FLOW_OPEN comes in this object (DATA copied: the block goes away). */
  private holdEarly(flows: GatewayFlows, key: string, record: EarlyRecord): void {
    // Copies, even of the small flow_id: a view would keep its whole block alive.
    const flowId = Buffer.from(record.flowId);
    const kept: EarlyRecord = record.type === RecordType.Data
      ? { ...record, flowId, payload: Buffer.from(record.payload) }
      : { ...record, flowId };
    if (kept.type === RecordType.Data) this.stats.bufferedBytes += kept.payload.length;
    const list = flows.early.get(key);
    if (list === undefined) flows.early.set(key, [kept]);
    else list.push(kept);
  }

  private apply(flows: GatewayFlows, flow: FlowState, record: EarlyRecord, owned: boolean): void {
    if (record.tsNs > flow.lastRecordTs) flow.lastRecordTs = record.tsNs;
    if (record.type === RecordType.Data) {
      this.placeData(flow, record, owned);
    } else if (record.type === RecordType.Gap) {
      flow.directions[record.dir]?.addGap(Number(record.offset), Number(record.length), record.tsNs);
    } else if (flow.close === undefined) {
      flow.close = { reason: record.reason, tsNs: record.tsNs };
      flow.directions[0].finalLength = Number(record.bytesC2s);
      flow.directions[1].finalLength = Number(record.bytesS2c);
      flows.closing.add(flow);
    }
  }

  private placeData(flow: FlowState, record: DataRecord, owned: boolean): void {
    const direction = flow.directions[record.dir];
    if (direction === undefined || record.payload.length === 0) return;
    const result = this.placement;
    result.accepted = 0;
    result.duplicateBytes = 0;
    result.trimmedBytes = 0;
    direction.place(Number(record.offset), record.payload, record.tsNs, owned, result);
    this.stats.bytesIn += result.accepted;
    this.stats.bufferedBytes += result.accepted;
    this.stats.overlapBytesTrimmed += result.trimmedBytes;
    if (result.accepted === 0 && result.trimmedBytes === 0) {
      this.stats.duplicateChunks++;
      this.stats.duplicateBytes += result.duplicateBytes;
    } else {
      this.stats.overlapBytesTrimmed += result.duplicateBytes;
    }
  }

  private finish(flows: GatewayFlows, flow: FlowState): void {
    flow.finish(this.consumer, this.stats);
    flows.flows.delete(flow.identity.key);
    flows.closed.add(flow.identity.key);
    this.stats.flowsClosed++;
    this.stats.flowsOpen--;
  }

  private dropEarly(flows: GatewayFlows): void {
    for (const records of flows.early.values()) {
      for (const record of records) {
        this.stats.orphanRecords++;
        if (record.type === RecordType.Data) {
          this.stats.orphanBytes += record.payload.length;
          this.stats.bufferedBytes -= record.payload.length;
        }
      }
    }
    flows.early.clear();
  }

  /** Over the total cap: flushes the flows holding most until under it again. */
  private relieveTotal(): void {
    const holding: FlowState[] = [];
    for (const flows of this.gateways.values()) {
      for (const flow of flows.flows.values()) if (flow.bufferedBytes > 0) holding.push(flow);
    }
    holding.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    for (const flow of holding) {
      if (this.stats.bufferedBytes <= this.limits.maxTotalBufferBytes) break;
      flow.drain('flush', this.consumer, this.stats);
      this.stats.forcedFlushesTotalCap++;
    }
  }
}

/**
 * The records of a block by time (stable). Where two DATA records carry the same
 * bytes (a re-send that overlaps), the earlier one must be placed first so the
 * bytes keep the time they were first seen; blocks are nearly always in order
 * already, so this costs one pass.
 */
function inTimeOrder(records: readonly CtapRecord[]): readonly CtapRecord[] {
  for (let i = 1; i < records.length; i++) {
    if (records[i]!.tsNs < records[i - 1]!.tsNs) return [...records].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
  }
  return records;
}
