/**
 * Flow reassembly: decoded CTAP records in, per flow one `open`, the bytes of
 * both directions in order and merged by time, holes, and one `close` out to a
 * FlowConsumer.
 *
 * The format lets the records of a flow come in any order within an object,
 * and its DATA anywhere from the object of its FLOW_OPEN to that of its
 * FLOW_CLOSE. So nothing a flow holds is handed on as soon as it is merely
 * contiguous: bytes of one direction would then go out before earlier bytes of
 * the other direction that are still to come (a ServerHello before its
 * ClientHello), and the order of a capture would depend on how the gateway
 * laid its records out. A flow's bytes are held until the object with its
 * FLOW_CLOSE ends, or until the gateway's clock (the `created_ns` of its
 * newest object) is a reorder window past them; then they are released in a
 * canonical order (see DirectionBuffer), both directions and all released
 * flows merged by time. Within the window every layout the format allows gives
 * the same output. Memory caps can force a release earlier: counted, never
 * silent.
 */
import { RecordType, type CtapRecord, type DataRecord, type FlowCloseRecord, type FlowOpenRecord, type GapRecord } from '../format/records.js';
import type { FlowConsumer, FlowIdentity } from './events.js';
import { emptyFlowTableStats, type FlowTableStats } from './flow-stats.js';
import { FlowState, type ReleaseMode } from './flow-state.js';
import { HoldArena } from './hold-arena.js';
import { MinHeap } from './min-heap.js';
import { RecentKeys } from './recent-keys.js';
import { MemoryRelief } from './memory-relief.js';

export interface FlowLimits {
  /** Bytes one flow may hold before it must hand them on early. @default 8 MiB */
  readonly maxFlowBufferBytes: number;
  /**
   * The flow table's memory budget: held bytes, their bookkeeping, records
   * waiting for their FLOW_OPEN and open flows all count (see memoryBytes).
   * Past it the table gives up state in this order, each counted with its
   * reason: (1) flows quiet the longest hand on what they hold, no longer
   * waiting for the other direction; (2) they give up the bytes they miss as
   * holes; (3) records waiting for a FLOW_OPEN are dropped as orphans; (4) the
   * gateway with the most open flows has its quietest flows closed.
   * @default 256 MiB
   */
  readonly maxTotalBufferBytes: number;
  /** Open flows at most; opening one more closes the quietest flow of the gateway with the most (counted). @default 1,000,000 */
  readonly maxOpenFlows: number;
  /**
   * Gateway time for which a flow's bytes wait for records that come out of
   * order, measured on the `created_ns` of the gateway's objects. A flow whose
   * FLOW_CLOSE comes first is released at once.
   * @default 30 s
   */
  readonly reorderWindowNs: bigint;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  maxFlowBufferBytes: 8 * 1024 * 1024,
  maxTotalBufferBytes: 256 * 1024 * 1024,
  maxOpenFlows: 1_000_000,
  reorderWindowNs: 30_000_000_000n,
};

/**
 * What the table's bookkeeping costs beside the bytes it holds, as measured
 * with 100,000 flows (bench, "memory per open flow"): an open flow with its
 * two directions, heaps and map entries; a held chunk, GAP mark or early record.
 */
export const OPEN_FLOW_COST_BYTES = 1536;
export const HELD_ITEM_COST_BYTES = 160;

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

/** Offsets and lengths past this are not whole numbers a stream of this world can reach. */
const MAX_STREAM_OFFSET = Number.MAX_SAFE_INTEGER;

type EarlyRecord = DataRecord | GapRecord | FlowCloseRecord;

interface GatewayFlows {
  readonly flows: Map<string, FlowState>;
  /** Records of the current object whose FLOW_OPEN has not come yet (DATA payloads copied). */
  readonly early: Map<string, EarlyRecord[]>;
  /** Flows whose FLOW_CLOSE came in the current object: complete when it ends. */
  readonly closing: Set<FlowState>;
  /** Open flows with something to hand on: not yet announced, or holding bytes or GAP marks. */
  readonly pending: Set<FlowState>;
  readonly closed: RecentKeys;
  /** The gateway's clock: the newest `created_ns` of its objects. */
  clockNs: bigint;
  /** The latest record time of the gateway, for idle flows. */
  newestRecordTs: bigint;
  /** `newestRecordTs` when idle flows were last looked for. */
  idleCheckedTs: bigint;
}

interface Releasing {
  readonly flow: FlowState;
  readonly mode: ReleaseMode;
  ts: bigint;
}

/** Flows released together come out by time; a tie goes to the lesser flow id, so the order is canonical. */
function releasingBefore(a: Releasing, b: Releasing): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts;
  return a.flow.identity.key < b.flow.identity.key;
}

export class FlowTable {
  readonly stats: FlowTableStats = emptyFlowTableStats();
  private readonly limits: FlowLimits;
  /** What the table gives up under its caps. */
  private readonly relief: MemoryRelief<GatewayFlows>;
  private readonly gateways = new Map<string, GatewayFlows>();
  private readonly touched = new Set<FlowState>();
  /** Every open flow, the one quiet the longest first (a flow moves to the end when a record touches it). */
  private readonly quietest = new Map<FlowState, GatewayFlows>();
  private readonly releasing = new MinHeap<Releasing>(releasingBefore);
  private readonly arena: HoldArena;

  constructor(private readonly consumer: FlowConsumer, limits?: Partial<FlowLimits>) {
    this.limits = { ...DEFAULT_FLOW_LIMITS, ...definedOnly(limits ?? {}) };
    this.arena = new HoldArena(HoldArena.spareSlabsFor(this.limits.maxTotalBufferBytes));
    this.relief = new MemoryRelief<GatewayFlows>({
      stats: this.stats,
      memoryBytes: () => this.memoryBytes,
      quietest: this.quietest,
      gateways: () => this.gateways.values(),
      openFlowCount: (flows) => flows.flows.size,
      releaseNow: (flows, flow, mode) => this.release(flows, [{ flow, mode, ts: 0n }], 0n),
      dropEarly: (flows) => this.dropEarly(flows),
      closeFlows: (flows, closing) => this.closeFlows(flows, closing),
    }, { ...this.limits, openFlowCostBytes: OPEN_FLOW_COST_BYTES });
  }

  /**
   * Places every record of one decoded block. DATA payloads may be views into
   * the block: what is still held afterwards is copied. Nothing is handed on
   * here unless a memory cap forces it.
   */
  ingestBlock(gateway: string, records: readonly CtapRecord[]): void {
    const flows = this.gatewayFlows(gateway);
    let newest = flows.newestRecordTs;
    for (const record of records) {
      if (record.type === RecordType.TlsKeys) continue;
      if (record.tsNs > newest) newest = record.tsNs;
      if (record.type === RecordType.FlowOpen) this.open(gateway, flows, record);
      else this.route(flows, record);
    }
    flows.newestRecordTs = newest;
    for (const flow of this.touched) {
      for (const direction of flow.directions) direction.keepViews();
      if (this.quietest.delete(flow)) this.quietest.set(flow, flows);
      if (flow.bufferedBytes > this.limits.maxFlowBufferBytes) this.relief.relieveFlow(flows, flow);
    }
    this.touched.clear();
    if (this.memoryBytes > this.limits.maxTotalBufferBytes) this.relief.relieveTotal();
  }

  /** What the table holds, by the costs above: bytes, held items and open flows. */
  get memoryBytes(): number {
    const s = this.stats;
    return s.bufferedBytes + s.heldItems * HELD_ITEM_COST_BYTES + s.flowsOpen * OPEN_FLOW_COST_BYTES;
  }

  /**
   * The gateway's current object (started at `createdNs`) is over: flows closed
   * in it are complete (missing bytes become holes, then the close), the others
   * hand on what the reorder window has passed, and records still waiting for a
   * FLOW_OPEN are orphans.
   */
  endOfObject(gateway: string, createdNs?: bigint): void {
    const flows = this.gateways.get(gateway);
    if (flows === undefined) return;
    if (createdNs !== undefined && createdNs > flows.clockNs) flows.clockNs = createdNs;
    const limit = flows.clockNs - this.limits.reorderWindowNs;
    const batch: Releasing[] = [];
    for (const flow of flows.closing) batch.push({ flow, mode: 'final', ts: 0n });
    for (const flow of flows.pending) if (!flows.closing.has(flow)) batch.push({ flow, mode: 'upTo', ts: 0n });
    flows.closing.clear();
    this.release(flows, batch, limit);
    this.dropEarly(flows);
  }

  /** End of a run: every flow is released (missing bytes as holes) and closed. */
  closeAll(): void {
    for (const flows of this.gateways.values()) {
      this.dropEarly(flows);
      this.closeFlows(flows, [...flows.flows.values()]);
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
    const idle = [...flows.flows.values()].filter((flow) => flow.lastRecordTs < before && !flows.closing.has(flow));
    this.closeFlows(flows, idle);
    this.stats.flowsClosedIdle += idle.length;
    return idle.length;
  }

  /** Closes every flow of a gateway that went quiet for good (nothing of it can be read any more). */
  closeGateway(gateway: string): number {
    const flows = this.gateways.get(gateway);
    if (flows === undefined) return 0;
    const open = [...flows.flows.values()];
    this.dropEarly(flows);
    this.closeFlows(flows, open);
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
    const flow = new FlowState({ key, gateway, open: resumed.open }, this.stats, this.arena);
    flow.resumeAt(resumed.exported, resumed.lastTs, resumed.lastRecordTs);
    flows.flows.set(key, flow);
    this.quietest.set(flow, flows);
    this.stats.flowsOpen++;
    flow.announce(this.consumer);
    return flow.identity;
  }

  private gatewayFlows(gateway: string): GatewayFlows {
    let flows = this.gateways.get(gateway);
    if (flows === undefined) {
      flows = {
        flows: new Map(), early: new Map(), closing: new Set(), pending: new Set(), closed: new RecentKeys(RECENTLY_CLOSED_PER_GATEWAY),
        clockNs: 0n, newestRecordTs: 0n, idleCheckedTs: 0n,
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
    if (this.stats.flowsOpen >= this.limits.maxOpenFlows) this.relief.closeQuietest(1, 'flowCap');
    const flow = new FlowState({ key, gateway, open: kept }, this.stats, this.arena);
    flows.flows.set(key, flow);
    this.quietest.set(flow, flows);
    flows.pending.add(flow);
    this.stats.flowsOpened++;
    this.stats.flowsOpen++;
    this.touched.add(flow);
    // A block can open a hundred thousand flows: the budget is kept as they come, not only after the block.
    if (this.memoryBytes > this.limits.maxTotalBufferBytes) this.relief.relieveTotal();
    const early = flows.early.get(key);
    if (early === undefined) return;
    flows.early.delete(key);
    for (const held of early) {
      this.stats.heldItems--;
      if (held.type === RecordType.Data) this.stats.bufferedBytes -= held.payload.length;
      this.apply(flows, flow, held, true);
    }
  }

  private route(flows: GatewayFlows, record: EarlyRecord): void {
    if (!withinStreamRange(record)) {
      this.stats.invalidRecords++;
      return;
    }
    const key = record.flowId.toString('hex');
    const flow = flows.flows.get(key);
    if (flow !== undefined) {
      this.apply(flows, flow, record, false);
      this.touched.add(flow);
    } else if (flows.closed.has(key)) {
      this.stats.lateRecords++;
      if (record.type === RecordType.Data) this.stats.lateRecordBytes += record.payload.length;
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
    this.stats.heldItems++;
    const list = flows.early.get(key);
    if (list === undefined) flows.early.set(key, [kept]);
    else list.push(kept);
  }

  private apply(flows: GatewayFlows, flow: FlowState, record: EarlyRecord, owned: boolean): void {
    if (record.tsNs > flow.lastRecordTs) flow.lastRecordTs = record.tsNs;
    if (record.type === RecordType.Data) {
      if (record.payload.length === 0) return;
      flow.directions[record.dir]?.place(Number(record.offset), record.payload, record.tsNs, owned);
      flows.pending.add(flow);
    } else if (record.type === RecordType.Gap) {
      flow.directions[record.dir]?.addGap(Number(record.offset), Number(record.length), record.tsNs);
      flows.pending.add(flow);
    } else if (flow.close === undefined) {
      flow.close = { reason: record.reason, tsNs: record.tsNs };
      flow.directions[0].finalLength = Number(record.bytesC2s);
      flow.directions[1].finalLength = Number(record.bytesS2c);
      flows.closing.add(flow);
    }
  }

  /** Closes flows now: each released in full, missing bytes as holes, then its close. */
  private closeFlows(flows: GatewayFlows, closing: readonly FlowState[]): void {
    this.release(flows, closing.map((flow) => ({ flow, mode: 'final', ts: 0n })), 0n);
    for (const flow of closing) flows.closing.delete(flow);
  }

  /**
   * Hands on what each flow of `batch` releases under its mode, all merged by
   * time (a lone flow skips the merge), then files away the flows that closed.
   */
  private release(flows: GatewayFlows, batch: readonly Releasing[], limitTs: bigint): void {
    if (batch.length === 1) {
      batch[0]!.flow.release(batch[0]!.mode, limitTs, this.consumer);
    } else if (batch.length > 1) {
      const queue = this.releasing;
      for (const entry of batch) this.requeue(entry, limitTs);
      for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) {
        entry.flow.takeNext(this.consumer);
        this.requeue(entry, limitTs);
      }
    }
    for (const { flow } of batch) {
      if (flow.finished) this.filed(flows, flow);
      else if (!flow.pending) flows.pending.delete(flow);
    }
  }

  private requeue(entry: Releasing, limitTs: bigint): void {
    const ts = entry.flow.nextTs(entry.mode, limitTs);
    if (ts === undefined) return;
    entry.ts = ts;
    this.releasing.push(entry);
  }

  private filed(flows: GatewayFlows, flow: FlowState): void {
    this.quietest.delete(flow);
    flows.flows.delete(flow.identity.key);
    flows.pending.delete(flow);
    flows.closed.add(flow.identity.key);
    this.stats.flowsClosed++;
    this.stats.flowsOpen--;
  }

  /** Records still waiting for their FLOW_OPEN are orphans; returns how many were dropped. */
  private dropEarly(flows: GatewayFlows): number {
    let dropped = 0;
    for (const records of flows.early.values()) {
      dropped += records.length;
      for (const record of records) {
        this.stats.orphanRecords++;
        this.stats.heldItems--;
        if (record.type === RecordType.Data) {
          this.stats.orphanBytes += record.payload.length;
          this.stats.bufferedBytes -= record.payload.length;
        }
      }
    }
    flows.early.clear();
    return dropped;
  }
}

/** Offsets and lengths a stream can have: whole numbers below 2^53 (a u64 past that is damage or hostile). */
function withinStreamRange(record: EarlyRecord): boolean {
  switch (record.type) {
    case RecordType.Data:
      return record.offset + BigInt(record.payload.length) <= MAX_STREAM_OFFSET;
    case RecordType.Gap:
      return record.offset + record.length <= MAX_STREAM_OFFSET;
    default:
      return record.bytesC2s <= MAX_STREAM_OFFSET && record.bytesS2c <= MAX_STREAM_OFFSET;
  }
}

function definedOnly<T extends object>(values: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
