/**
 * The stitcher's main loop: keys first, then every new traffic object of every
 * gateway in <seq> order, through reassembly and packet synthesis, to the outputs.
 * `once` reads what is there, closes all flows and returns; otherwise it polls
 * until the signal aborts.
 *
 * As one shard of several it reads only the gateways it owns. With checkpoints it
 * resumes from them on start, writes one every interval between two objects, and
 * on a stop leaves its flows open in a last, exact checkpoint instead of closing
 * them. With a guard (a Lease) it stops exporting the moment the guard says so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectKind } from '../format/records.js';
import type { ObjectDamage } from '../format/damage.js';
import { FlowTable, type FlowLimits } from '../flow/flow-table.js';
import type { FlowSelection } from '../flow/selection.js';
import type { ObjectStore } from '../store/store.js';
import { appendFileSync, chmodSync } from 'node:fs';
import { SECRETS_MODE } from '../export/pcapng.js';
import { ExportGraph, type ExportTarget, type OutputReport } from '../graph/export-graph.js';
import { CleartextSide, type CleartextSettings } from '../graph/cleartext.js';
import { KeyStore } from '../tls/key-store.js';
import type { TlsStats } from '../tls/stats.js';
import { FlowLedger } from '../checkpoint/flow-ledger.js';
import { KeyFeed, type KeyLogBatch, type KeyObjectReport } from '../ingest/key-feed.js';
import { ObjectFeed, type FeedObject, type HourWindow, type SeqGap } from '../ingest/object-feed.js';
import { PrefetchingStore } from '../ingest/prefetch.js';
import { readObject } from '../ingest/read-object.js';
import type { Logger } from '../observe/log.js';
import { ownsGateway, SINGLE_SHARD, type ShardSpec } from '../shard/shard.js';
import type { CheckpointerOptions } from '../checkpoint/checkpointer.js';
import { ShardKeeper, type ExportGuard, type ShardStats } from '../shard/shard-keeper.js';

export type { ExportGuard } from '../shard/shard-keeper.js';

export interface StitchOptions {
  readonly source: ObjectStore;
  /** Where key objects are. @default the source */
  readonly keys?: ObjectStore;
  /** Each output with its pipeline options (variant, remapping). */
  readonly outputs: readonly ExportTarget[];
  /** `--select`: only these flows are exported; the rest are counted. */
  readonly selection?: FlowSelection;
  /** TLS decryption, for outputs that want clear text (variant cleartext or both). */
  readonly cleartext?: CleartextSettings;
  /** Capture time a TLS flow waits for its keys (before a pcapng output writes it, or before the clear-text variant gives up on it). @default DEFAULT_KEY_WAIT_MS */
  readonly keyWaitMs?: number;
  /** Read everything present, close all flows and return. */
  readonly once: boolean;
  /** @default 10000 */
  readonly pollIntervalMs?: number;
  /** How often a polling run sweeps each hour for quiet gateways' new objects, the longest one waits (see store/listing-schedule.ts). @default 10000 */
  readonly maxQuietListingMs?: number;
  /** Which hour folders each poll lists. @default every hour in the store */
  readonly hours?: HourWindow;
  readonly flowLimits?: Partial<FlowLimits>;
  /** Bytes the key gates of pcapng outputs may hold (their share of the memory budget). @default the gate's own */
  readonly keyGateMaxHeldBytes?: number;
  /** Bytes the TLS session keys may take (their share of the memory budget); past it the oldest are dropped. @default the key store's own count bound */
  readonly keySessionsMaxBytes?: number;
  /** Bytes the memory of key log lines passed on may take (its share of the budget); past it the oldest are forgotten. @default its own count bound */
  readonly keyLinesMaxBytes?: number;
  readonly logger: Logger;
  /** Stops a polling run (SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once with the live counters (for metrics). */
  readonly onStart?: (stats: StitchStats) => void;
  /** Called after every object. */
  readonly onProgress?: (stats: StitchStats) => void;
  /** Which gateways this stitcher owns. @default all of them */
  readonly shard?: ShardSpec;
  /** How long a polling run waits for a missing <seq> before passing it with a reported gap. @default forever */
  readonly reorderWaitMs?: number;
  /** A flow with no record for this long of its gateway's record time is closed (its FLOW_CLOSE was lost). @default 3600000 */
  readonly flowIdleMs?: number;
  /** Resume from and write checkpoints. @default none: a stop closes every flow */
  readonly checkpoint?: CheckpointerOptions;
  /** Asked before every block: false stops exporting at once (a lost Lease). */
  readonly guard?: ExportGuard;
  /** The wall clock the look-back window follows, for tests. @default Date.now */
  readonly now?: () => number;
}

export interface StitchStats {
  /** Polls made (listings of the traffic and key feeds). */
  polls: number;
  objects: number;
  objectsKnown: number;
  damaged: number;
  bytesRead: number;
  seqGaps: number;
  keyLines: number;
  /** Key log lines dropped as invalid (never exported). */
  keyLinesInvalid: number;
  /** Key objects cut short by the per-object limit of key log text (not read past it). */
  keyObjectsCut: number;
  /** TLS sessions whose keys were dropped, oldest first, to keep the key store within its share of the budget. */
  readonly keySessionsDropped: number;
  /** Key log lines passed on whose memory was given up (so a repeat of one is passed on again). */
  readonly keyLinesForgotten: number;
  /** The flow table's own counters (flows, tapped bytes, holes, forced flushes...). */
  readonly flows: FlowTable['stats'];
  /** Packets synthesised, every variant. */
  readonly packets: number;
  /** Per output: handed, exported, dropped, failed. */
  readonly outputs: OutputReport[];
  /** TLS decryption of the clear-text variant, when asked for. */
  readonly tls: TlsStats | undefined;
  /** Capture time (ns) of the newest record exported. */
  readonly newestExportedNs: bigint;
  /** Gateways waiting for a missing <seq> now. */
  gatewaysWaiting: number;
  /** Resume, checkpoints, retired gateways, readiness. */
  readonly shard: ShardStats;
  /** Traffic objects and their bytes read per gateway (at most MAX_GATEWAY_SERIES names, the rest under OTHER_GATEWAYS). */
  readonly byGateway: Map<string, { objects: number; bytes: number }>;
}

/** Gateways are a fleet, not users: a few hundred names at most, the rest pooled so metrics stay bounded. */
export const MAX_GATEWAY_SERIES = 256;
export const OTHER_GATEWAYS = '_other';
/** How often a polling run polls when not told. */
const DEFAULT_POLL_INTERVAL_MS = 10_000;

export async function stitch(options: StitchOptions): Promise<StitchStats> {
  const run = new StitchRun(options);
  await run.start();
  return run.stats;
}

class StitchRun {
  readonly stats: StitchStats;
  private readonly graph: ExportGraph;
  /** The one store of session keys: the key feed fills it, key gates and decryptors read it. */
  private readonly keyStore: KeyStore;
  private readonly cleartext: CleartextSide | undefined;
  private readonly flows: FlowTable;
  private readonly traffic: ObjectFeed;
  private readonly keys: KeyFeed;
  private readonly log: Logger;
  private readonly source: PrefetchingStore;
  private readonly keyLogsChecked = new Set<string>();
  private readonly reuseBuffers: boolean;
  private readonly keeper: ShardKeeper;
  private readonly flowIdleNs: bigint;

  constructor(private readonly options: StitchOptions) {
    this.log = options.logger;
    this.flowIdleNs = BigInt(options.flowIdleMs ?? 3_600_000) * 1_000_000n;
    this.source = new PrefetchingStore(options.source);
    this.reuseBuffers = options.outputs.every((output) => output.sink.capabilities?.copiesOnWrite === true);
    this.keyStore = new KeyStore({ maxBytes: options.keySessionsMaxBytes });
    this.cleartext = options.cleartext === undefined ? undefined : new CleartextSide({
      ...options.cleartext, keys: this.keyStore, logger: options.logger, keyWaitMs: options.keyWaitMs,
    });
    const graph = new ExportGraph(options.outputs, {
      selection: options.selection,
      cleartext: this.cleartext?.stage,
      keyGate: { keys: this.keyStore, limits: { keyWaitMs: options.keyWaitMs, maxHeldBytes: options.keyGateMaxHeldBytes } },
    });
    this.graph = graph;
    const stages = [...graph.gates, ...(this.cleartext?.decryptors ?? [])];
    const ledger = new FlowLedger(graph.consumer, options.checkpoint !== undefined, { stages, synthesizers: graph.synthesizers });
    this.flows = new FlowTable(ledger, options.flowLimits);
    const shard = options.shard ?? SINGLE_SHARD;
    const owns = (gateway: string): boolean => ownsGateway(shard, gateway);
    const feedOptions = {
      owns, reorderWaitMs: options.reorderWaitMs, ...(options.now !== undefined ? { now: options.now } : {}),
      // A polling run lists quiet gateways less often; a one-off run lists everything once.
      ...(options.once ? {} : { listing: { pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, maxQuietMs: options.maxQuietListingMs } }),
    };
    this.traffic = new ObjectFeed(options.source, ObjectKind.Traffic, options.hours, feedOptions);
    this.keys = new KeyFeed(options.keys ?? options.source, options.hours, { ...feedOptions, seen: { maxBytes: options.keyLinesMaxBytes } });
    this.keys.onKeyLog = this.onKeyLog;
    this.keys.onDropped = this.onKeysDropped;
    const keeper = new ShardKeeper({
      shard, checkpoint: options.checkpoint, guard: options.guard, logger: options.logger,
      parts: {
        feed: this.traffic, ledger, table: this.flows, synthesizers: graph.synthesizers, drained: () => graph.drained(),
        sinks: options.outputs.map((output) => output.sink), outputPackets: () => graph.outputs.map((output) => output.packets),
      },
    });
    this.keeper = keeper;
    const cleartext = this.cleartext;
    const [keyStore, keys] = [this.keyStore, this.keys];
    this.stats = {
      polls: 0, objects: 0, objectsKnown: 0, damaged: 0, bytesRead: 0, seqGaps: 0, keyLines: 0, keyLinesInvalid: 0, keyObjectsCut: 0, flows: this.flows.stats,
      get packets() { return graph.packets; },
      get outputs() { return graph.outputs; },
      get tls() { return cleartext?.stats; },
      get keySessionsDropped() { return keyStore.sessionsDropped; },
      get keyLinesForgotten() { return keys.forgottenLines; },
      get newestExportedNs() { return keeper.newestExportedNs; },
      gatewaysWaiting: 0,
      shard: keeper.stats,
      byGateway: new Map(),
    };
  }

  async start(): Promise<void> {
    const { once, signal } = this.options;
    this.options.onStart?.(this.stats);
    let failure: unknown;
    try {
      await this.keeper.resume();
      for (;;) {
        await this.pollOnce();
        if (once || this.stopped()) break;
        await this.keeper.afterPoll();
        await sleep(this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
        if (this.stopped()) break;
      }
      // With checkpoints a stop leaves flows open: the last checkpoint carries them on.
      if (once || !this.keeper.keepsFlowsOpen) {
        this.flows.closeAll();
        this.cleartext?.flush();
        for (const gate of this.graph.gates) gate.flush();
      }
      if (this.graph.mustWait) await this.graph.drained();
    } catch (error) {
      failure = error;
    } finally {
      await this.source.close();
      await Promise.all(this.options.outputs.map((output) => output.sink.close()));
    }
    // After the outputs closed: what the last checkpoint claims is on disk.
    await this.keeper.finish(failure);
    if (failure !== undefined && this.stats.shard.stoppedBy === undefined) throw failure;
  }

  private stopped(): boolean {
    return this.options.signal?.aborted === true;
  }

  private async pollOnce(): Promise<void> {
    const passGaps = this.options.once;
    this.stats.polls++;
    await this.keys.poll(passGaps, this.onDamage, this.onGap);
    const objects = await this.traffic.poll(passGaps, this.onGap);
    this.stats.objectsKnown += objects.length;
    this.stats.gatewaysWaiting = this.traffic.waitingGateways;
    this.source.plan(objects.map((object) => object.key));
    for (const object of objects) {
      if (this.stopped()) return;
      await this.stitchObject(object);
      await this.keeper.checkpointIfDue();
    }
  }

  private async stitchObject(object: FeedObject): Promise<void> {
    this.keeper.beforeObject(object.gateway, object.seq);
    let createdNs: bigint | undefined;
    const result = await readObject(this.source, object.key, ObjectKind.Traffic, {
      onHeader: (header) => {
        createdNs = header.createdNs;
      },
      onRecords: (records) => {
        this.keeper.checkGuard();
        this.flows.ingestBlock(object.gateway, records);
        return this.graph.mustWait ? this.graph.drained() : undefined;
      },
      onDamage: this.onDamage,
      // The reader may reuse its memory only when every output copies a packet before write() returns.
      reuseBuffers: this.reuseBuffers,
    });
    this.flows.endOfObject(object.gateway, createdNs);
    this.flows.closeIdle(object.gateway, this.flowIdleNs);
    // Flows released whole at the end of their object: the outputs catch up before the next is read.
    if (this.graph.mustWait) await this.graph.drained();
    this.keeper.afterObject(object.gateway);
    this.stats.objects++;
    this.stats.bytesRead += result.bytesRead;
    if (result.damaged) this.stats.damaged++;
    this.countGateway(object.gateway, result.bytesRead);
    this.options.onProgress?.(this.stats);
  }

  private countGateway(gateway: string, bytes: number): void {
    const byGateway = this.stats.byGateway;
    const name = byGateway.has(gateway) || byGateway.size < MAX_GATEWAY_SERIES ? gateway : OTHER_GATEWAYS;
    const counts = byGateway.get(name) ?? { objects: 0, bytes: 0 };
    counts.objects++;
    counts.bytes += bytes;
    byGateway.set(name, counts);
  }

  /** Outputs that carry secrets get new lines before the key store hears of them, so a held flow is written after its keys. */
  private readonly onKeyLog = (batch: KeyLogBatch): void => {
    if (batch.fresh !== '') this.shareSecrets(batch.fresh);
    this.keyStore.add(batch.entries);
  };

  /** One warning per key object, with counts and the first line number: a line's text may be a secret. */
  private readonly onKeysDropped = (report: KeyObjectReport): void => {
    this.stats.keyLinesInvalid += report.invalid;
    if (report.cut) this.stats.keyObjectsCut++;
    this.log.warn('key log lines dropped', {
      object: report.objectKey, valid: report.valid, invalid: report.invalid, firstInvalidLine: report.firstInvalidLine,
      problems: report.problems, ...(report.cut ? { cutAtObjectLimit: true } : {}),
    });
  };

  /** Key log files hold secrets: 0600, also when the file was there before with a wider mode. */
  private appendKeyLog(path: string, lines: string): void {
    appendFileSync(path, lines, { mode: SECRETS_MODE });
    if (!this.keyLogsChecked.has(path)) {
      chmodSync(path, SECRETS_MODE);
      this.keyLogsChecked.add(path);
    }
  }

  private shareSecrets(lines: string): void {
    this.stats.keyLines += lines.split('\n').length - 1;
    for (const { options } of this.options.outputs) {
      // secrets: readable by the owner only
      if (options.keylog !== undefined) this.appendKeyLog(options.keylog, lines);
    }
    for (const { sink } of this.options.outputs) {
      sink.capabilities?.secrets?.addSecrets(lines);
    }
  }

  private readonly onDamage = (damage: ObjectDamage): void => {
    this.log.warn('damaged object', { object: damage.object, offset: damage.offset, problem: damage.problem });
  };

  private readonly onGap = (gap: SeqGap): void => {
    this.stats.seqGaps++;
    this.log.warn('objects missing from a gateway stream', {
      gateway: gap.gateway, fromSeq: gap.fromSeq.toString(), toSeq: gap.toSeq.toString(),
    });
  };
}


