/**
 * Everything a stitcher does as one shard of several, kept out of the main
 * loop: which gateways it owns, resuming from checkpoints, writing them
 * between two objects, retiring quiet gateways, and stopping the moment its
 * guard (the shard's Lease) withdraws the right to export.
 */
import type { FlowTable } from '../flow/flow-table.js';
import type { TcpSynthesizer } from '../flow/tcp-synthesizer.js';
import type { PacketSink } from '../export/sink.js';
import type { GatewayCheckpoint } from '../checkpoint/checkpoint.js';
import { Checkpointer, type CheckpointerOptions, type CheckpointStats } from '../checkpoint/checkpointer.js';
import type { FlowLedger } from '../checkpoint/flow-ledger.js';
import type { Logger } from '../observe/log.js';
import type { ObjectFeed } from '../ingest/object-feed.js';
import { resumeFrom, takeCheckpoint, type ResumeParts } from '../checkpoint/resume.js';
import { encodeShardStatus, shardStatus, type ExportProgress } from './status-report.js';
import { SINGLE_SHARD, type ShardSpec } from './shard.js';

export interface ExportGuard {
  mayExport(): boolean;
}

/** Thrown inside the read loop when the guard withdraws the right to export. */
export class ExportWithdrawn extends Error {
  constructor() {
    super('the right to export was withdrawn (the shard Lease was lost)');
  }
}

export interface ShardKeeperOptions {
  /** @default the only shard */
  readonly shard?: ShardSpec;
  /** @default none: a stop closes every flow, nothing is resumed */
  readonly checkpoint?: CheckpointerOptions;
  readonly guard?: ExportGuard;
  readonly logger: Logger;
  /** What it reads, resumes and checkpoints. */
  readonly parts: ShardParts;
}

export interface ShardStats {
  gatewaysRetired: number;
  resumedGateways: number;
  resumedFlows: number;
  /** True while the run reads and exports (after its resume). */
  ready: boolean;
  /** Why the run ended early. */
  stoppedBy: 'guard' | undefined;
  readonly checkpoint: CheckpointStats | undefined;
}

export interface ShardParts {
  readonly feed: ObjectFeed;
  /** The flow table's consumer, noting what checkpoints need (built with checkpoints on when `checkpoint` is given). */
  readonly ledger: FlowLedger;
  readonly table: FlowTable;
  readonly synthesizers: readonly TcpSynthesizer[];
  /** Waits until every output took what it was given. */
  readonly drained: () => Promise<void>;
  /** The outputs, flushed before every checkpoint. */
  readonly sinks: readonly PacketSink[];
  /** Packets handed to each output so far, in the order of `sinks`. */
  readonly outputPackets: () => readonly number[];
}

export class ShardKeeper {
  readonly stats: ShardStats;
  readonly shard: ShardSpec;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly parts: ShardParts;
  private carried = new Map<string, GatewayCheckpoint>();
  private readonly log: Logger;
  private lastReport: ExportProgress | undefined;

  constructor(private readonly options: ShardKeeperOptions) {
    this.shard = options.shard ?? SINGLE_SHARD;
    this.log = options.logger;
    this.parts = options.parts;
    this.checkpointer = options.checkpoint === undefined ? undefined : new Checkpointer(options.checkpoint);
    this.stats = { gatewaysRetired: 0, resumedGateways: 0, resumedFlows: 0, ready: false, stoppedBy: undefined, checkpoint: this.checkpointer?.stats };
  }

  /** With checkpoints, flows stay open across a stop (the last checkpoint carries them). */
  get keepsFlowsOpen(): boolean {
    return this.checkpointer !== undefined;
  }

  /** Record time (ns) of the newest event exported. */
  get newestExportedNs(): bigint {
    return this.parts.ledger.newestTsNs;
  }

  /** Seeds the feed, the flow table and the synthesisers from every checkpoint found. */
  async resume(): Promise<void> {
    const store = this.options.checkpoint?.store;
    const parts = this.resumeParts();
    if (store !== undefined) {
      const found = await store.readAll();
      const summary = resumeFrom(parts, found, (hour) => parts.feed.isBeforeWindow(hour));
      this.carried = summary.carried;
      if (summary.newestExportedNs > parts.ledger.newestTsNs) parts.ledger.newestTsNs = summary.newestExportedNs;
      this.stats.resumedGateways = summary.gateways;
      this.stats.resumedFlows = summary.flows;
      if (found.length > 0) {
        this.log.info('resumed from checkpoints', {
          checkpoint: store.description, shards: found.map((f) => f.index), gateways: summary.gateways, flows: summary.flows, carried: summary.carried.size,
        });
      }
    }
    this.stats.ready = true;
  }

  /** @throws ExportWithdrawn once the guard says no */
  checkGuard(): void {
    if (!this.mayExport()) throw new ExportWithdrawn();
  }

  private mayExport(): boolean {
    return this.options.guard === undefined || this.options.guard.mayExport();
  }

  beforeObject(gateway: string, seq: bigint): void {
    this.checkGuard();
    this.parts.ledger.reading(gateway, seq);
  }

  afterObject(gateway: string): void {
    this.checkGuard();
    if (this.checkpointer !== undefined) this.parts.ledger.objectDone(gateway, this.parts.table);
  }

  async checkpointIfDue(): Promise<void> {
    if (this.checkpointer?.due() === true) await this.checkpoint(false);
  }

  /** Between polls: retires quiet gateways and writes a checkpoint when one is due. */
  async afterPoll(): Promise<void> {
    this.retireQuietGateways();
    await this.checkpointIfDue();
  }

  /** The run is over and its outputs closed: the last checkpoint is exact (not after a lost guard). */
  async finish(error: unknown): Promise<void> {
    this.stats.ready = false;
    if (error instanceof ExportWithdrawn || !this.mayExport()) {
      this.stats.stoppedBy = 'guard';
      return;
    }
    if (error === undefined) await this.checkpoint(true);
  }

  private resumeParts(): ResumeParts {
    const parts = this.parts;
    return { shard: this.shard, feed: parts.feed, table: parts.table, synthesizers: parts.synthesizers, ledger: parts.ledger };
  }

  /** Between two objects only: every flow then stands at an object boundary. */
  private async checkpoint(outputsClosed: boolean): Promise<void> {
    const parts = this.resumeParts();
    // A shard that lost its Lease leaves the checkpoint to its successor.
    if (this.checkpointer === undefined || !this.mayExport()) return;
    for (const [gateway, entry] of this.carried) {
      if (entry.lastHour !== undefined && parts.feed.isBeforeWindow(entry.lastHour)) this.carried.delete(gateway);
    }
    if (!outputsClosed) await this.flushOutputs();
    const report = this.options.checkpoint?.store.carriesReports === true ? () => this.statusReport() : undefined;
    const packets = this.parts.outputPackets();
    const outputs = this.parts.sinks.map((sink, i) => ({ output: sink.description, packets: packets[i] ?? 0 }));
    await this.checkpointer.offer({ ...takeCheckpoint(parts, this.carried, parts.ledger.newestTsNs), outputs }, report);
  }

  /** What the checkpoint claims must have left the stitcher: every output takes and hands on all it was given. */
  private async flushOutputs(): Promise<void> {
    await this.parts.drained();
    await Promise.all(this.parts.sinks.map((sink) => sink.flush()));
  }

  /** Throughput since the last report and lag, as the operator reads them (status-report.ts). */
  private statusReport(): string {
    const parts = this.parts;
    const newest = parts.ledger.newestTsNs;
    const current = { bytes: parts.table.stats.exported, atMs: Date.now(), newestExportedNs: newest === 0n ? undefined : newest };
    const report = shardStatus(this.lastReport, current);
    this.lastReport = { bytes: current.bytes, atMs: current.atMs };
    return encodeShardStatus(report);
  }

  /**
   * Gateways whose objects are all out of the window are forgotten: nothing of
   * theirs can be read any more, so flows still open (a gateway that died
   * without closing them) are closed first.
   */
  private retireQuietGateways(): void {
    const parts = this.parts;
    for (const gateway of parts.feed.outOfWindow()) {
      const closed = parts.table.closeGateway(gateway);
      if (closed > 0) this.log.warn('closed the open flows of a gateway gone quiet', { gateway, flows: closed });
      parts.feed.retire(gateway);
      parts.table.forgetGateway(gateway);
      parts.ledger.forget(gateway);
      this.stats.gatewaysRetired++;
      this.log.info('retired a quiet gateway', { gateway });
    }
  }
}
