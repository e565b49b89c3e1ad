/**
 * The stitcher's main loop: keys first, then every new traffic object of every
 * gateway in <seq> order, through reassembly and packet synthesis, to the outputs.
 * `once` reads what is there, closes all flows and returns; otherwise it polls
 * until the signal aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectKind } from '../format/records.js';
import type { ObjectDamage } from '../format/damage.js';
import { FlowTable, type FlowLimits } from '../flow/flow-table.js';
import { TcpSynthesizer } from '../flow/tcp-synthesizer.js';
import type { PacketSink } from '../export/sink.js';
import type { ObjectStore } from '../store/store.js';
import { Fanout } from './fanout.js';
import { KeyFeed } from './key-feed.js';
import { ObjectFeed, type FeedObject, type HourWindow, type SeqGap } from './object-feed.js';
import { PrefetchingStore } from './prefetch.js';
import { readObject } from './read-object.js';
import type { Logger } from './log.js';

/** An output that can also carry TLS secrets in-band (pcapng). */
export interface SecretsCarrier {
  addSecrets(nssKeyLogLines: string): void;
}

export interface StitchOptions {
  readonly source: ObjectStore;
  /** Where key objects are. @default the source */
  readonly keys?: ObjectStore;
  readonly outputs: readonly PacketSink[];
  /** Read everything present, close all flows and return. */
  readonly once: boolean;
  /** @default 10000 */
  readonly pollIntervalMs?: number;
  /** Which hour folders each poll lists. @default every hour in the store */
  readonly hours?: HourWindow;
  readonly flowLimits?: Partial<FlowLimits>;
  readonly logger: Logger;
  /** Stops a polling run (SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once with the live counters (for metrics). */
  readonly onStart?: (stats: StitchStats) => void;
  /** Called after every object. */
  readonly onProgress?: (stats: StitchStats) => void;
}

export interface StitchStats {
  objects: number;
  objectsKnown: number;
  damaged: number;
  bytesRead: number;
  seqGaps: number;
  keyLines: number;
  /** The flow table's own counters (flows, tapped bytes, holes, forced flushes...). */
  readonly flows: FlowTable['stats'];
  readonly packets: TcpSynthesizer['stats'];
  readonly outputs: Fanout['counters'];
}

export async function stitch(options: StitchOptions): Promise<StitchStats> {
  const run = new StitchRun(options);
  await run.start();
  return run.stats;
}

class StitchRun {
  readonly stats: StitchStats;
  private readonly fanout: Fanout;
  private readonly synthesizer: TcpSynthesizer;
  private readonly flows: FlowTable;
  private readonly traffic: ObjectFeed;
  private readonly keys: KeyFeed;
  private readonly log: Logger;
  private readonly source: PrefetchingStore;

  constructor(private readonly options: StitchOptions) {
    this.log = options.logger;
    this.source = new PrefetchingStore(options.source);
    this.fanout = new Fanout(options.outputs);
    this.synthesizer = new TcpSynthesizer(this.fanout.emit);
    this.flows = new FlowTable(this.synthesizer, options.flowLimits);
    this.traffic = new ObjectFeed(options.source, ObjectKind.Traffic, options.hours);
    this.keys = new KeyFeed(options.keys ?? options.source, options.hours);
    this.stats = {
      objects: 0, objectsKnown: 0, damaged: 0, bytesRead: 0, seqGaps: 0, keyLines: 0,
      flows: this.flows.stats, packets: this.synthesizer.stats, outputs: this.fanout.counters,
    };
  }

  async start(): Promise<void> {
    const { once, signal } = this.options;
    this.options.onStart?.(this.stats);
    try {
      for (;;) {
        await this.pollOnce();
        if (once || this.stopped()) break;
        await sleep(this.options.pollIntervalMs ?? 10_000, undefined, { signal }).catch(() => undefined);
        if (this.stopped()) break;
      }
      this.flows.closeAll();
      if (this.fanout.mustWait) await this.fanout.drained();
    } finally {
      await this.source.close();
      await Promise.all(this.options.outputs.map((output) => output.close()));
    }
  }

  private stopped(): boolean {
    return this.options.signal?.aborted === true;
  }

  private async pollOnce(): Promise<void> {
    const passGaps = this.options.once;
    const keyLines = await this.keys.poll(passGaps, this.onDamage, this.onGap);
    if (keyLines !== '') this.shareSecrets(keyLines);
    const objects = await this.traffic.poll(passGaps, this.onGap);
    this.stats.objectsKnown += objects.length;
    this.source.plan(objects.map((object) => object.key));
    for (const object of objects) {
      if (this.stopped()) return;
      await this.stitchObject(object);
    }
  }

  private async stitchObject(object: FeedObject): Promise<void> {
    const result = await readObject(this.source, object.key, ObjectKind.Traffic, {
      onRecords: (records) => {
        this.flows.ingestBlock(object.gateway, records);
        return this.fanout.mustWait ? this.fanout.drained() : undefined;
      },
      onDamage: this.onDamage,
    });
    this.flows.endOfObject(object.gateway);
    this.stats.objects++;
    this.stats.bytesRead += result.bytesRead;
    if (result.damaged) this.stats.damaged++;
    this.options.onProgress?.(this.stats);
  }

  private shareSecrets(lines: string): void {
    this.stats.keyLines = this.keys.stats.lines;
    for (const output of this.options.outputs) {
      if (carriesSecrets(output)) output.addSecrets(lines);
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

function carriesSecrets(output: PacketSink): output is PacketSink & SecretsCarrier {
  return typeof (output as Partial<SecretsCarrier>).addSecrets === 'function';
}
