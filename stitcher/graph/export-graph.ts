/**
 * From reassembled flows to every output: outputs that want the same packets
 * (same variant side, remapping and segment size) share one synthesiser; the
 * --select filter sits in front of all of them.
 *
 *     FlowTable -> [select] -> tee -> [remap] -> TcpSynthesizer -> Fanout -> outputs        original, both
 *                                  -> TLS decryption -> tee -> [remap] -> TcpSynthesizer -> ...  cleartext (every flow)
 *                                                           -> decrypted only -> [remap] -> ...  both (the clear-text copy)
 */
import type { FlowConsumer } from '../flow/events.js';
import type { FlowSelection } from '../flow/selection.js';
import { TcpSynthesizer } from '../flow/tcp-synthesizer.js';
import { createRemapper } from '../export/remap.js';
import type { PacketSink } from '../export/sink.js';
import type { KeyStore } from '../tls/key-store.js';
import { Fanout } from './fanout.js';
import { DecryptedFlows, FlowTee, RemappedFlows, SelectedFlows } from './flow-stages.js';
import { KeyGate, type KeyGateOptions } from './key-gate.js';
import type { OutputOptions } from './output-options.js';

/**
 * What became of the packets handed to one output. A file output writes what
 * it is handed (a failed write fails the run); a wire output may drop packets
 * (no peer, queue full, a slow client) or have the kernel refuse them.
 */
export interface OutputReport {
  /** Packets the stitcher handed to the output. */
  readonly packets: number;
  /** Frame bytes handed to the output. */
  readonly bytes: number;
  /** Packets written to the file, or handed to the kernel (per client in pcap-over-ip listen mode). */
  readonly exportedPackets: number;
  /** Bytes written or sent (a wire output counts what it puts on the wire: tunnel headers or pcap record headers too). */
  readonly exportedBytes: number;
  /** Packets not sent on purpose: no peer connected, a full queue, a client too far behind. */
  readonly droppedPackets: number;
  /** Sends the kernel refused, by error code (ECONNREFUSED, EHOSTUNREACH, ...). */
  readonly sendErrorsByCode: Readonly<Record<string, number>>;
}

export interface ExportTarget {
  readonly sink: PacketSink;
  readonly options: OutputOptions;
}

/** Builds the clear-text side: a consumer that decrypts and hands plaintext flows to `downstream`. */
export type CleartextStage = (downstream: FlowConsumer) => FlowConsumer;

export interface ExportGraphOptions {
  readonly selection?: FlowSelection;
  /** Outputs that carry secrets get a key gate in front, so TLS flows of the original variant wait for their keys. */
  readonly keyGate?: { readonly keys: KeyStore; readonly limits?: KeyGateOptions };
  /** Needed when any output asks for variant cleartext or both. */
  readonly cleartext?: CleartextStage;
}

/** original: the flows as tapped; cleartext: every flow, TLS ones decrypted; decrypted: only the decrypted TLS flows. */
type Side = 'original' | 'cleartext' | 'decrypted';

interface Group {
  readonly side: Side;
  readonly targets: ExportTarget[];
  fanout?: Fanout;
  synthesizer?: TcpSynthesizer;
}

export class ExportGraph {
  readonly consumer: FlowConsumer;
  /** The key gates in front of outputs that carry secrets (flushed at the end of a run; checkpoints ask them). */
  readonly gates: KeyGate[] = [];
  private readonly groups: Group[] = [];

  constructor(private readonly targets: readonly ExportTarget[], private readonly options: ExportGraphOptions = {}) {
    for (const target of targets) {
      const variant = target.options.variant;
      if (variant !== 'cleartext') this.group('original', target);
      if (variant === 'cleartext') this.group('cleartext', target);
      if (variant === 'both') this.group('decrypted', target);
    }
    const chains = (side: Side): FlowConsumer[] => this.groups.filter((g) => g.side === side).map((g) => this.chain(g));
    const branches = chains('original');
    const afterDecryption = chains('cleartext');
    const decrypted = chains('decrypted');
    if (decrypted.length > 0) afterDecryption.push(new DecryptedFlows(single(decrypted)));
    if (afterDecryption.length > 0) {
      if (options.cleartext === undefined) throw new Error('an output asks for variant cleartext or both, but TLS decryption is not set up');
      branches.push(options.cleartext(single(afterDecryption)));
    }
    const tee = single(branches);
    this.consumer = options.selection === undefined ? tee : new SelectedFlows(options.selection, tee);
  }

  /** Every synthesiser, original side first (checkpoints read their TCP state). */
  get synthesizers(): TcpSynthesizer[] {
    return this.groups.flatMap((g) => (g.synthesizer === undefined ? [] : [g.synthesizer]));
  }

  /** Packets synthesised, all branches. */
  get packets(): number {
    return this.groups.reduce((n, g) => n + (g.synthesizer?.stats.packets ?? 0), 0);
  }

  /** Per output, in the order given: what it was handed and what it exported, dropped or failed to send. */
  get outputs(): OutputReport[] {
    return this.targets.map((target) => {
      let packets = 0;
      let bytes = 0;
      for (const group of this.groups) {
        const i = group.targets.indexOf(target);
        const counter = i < 0 ? undefined : group.fanout?.counters[i];
        if (counter !== undefined) {
          packets += counter.packets;
          bytes += counter.bytes;
        }
      }
      const wire = target.sink.capabilities?.wire?.stats;
      if (wire === undefined) return { packets, bytes, exportedPackets: packets, exportedBytes: bytes, droppedPackets: 0, sendErrorsByCode: {} };
      return { packets, bytes, exportedPackets: wire.packets, exportedBytes: wire.bytes, droppedPackets: wire.dropped, sendErrorsByCode: { ...wire.errorsByCode } };
    });
  }

  get mustWait(): boolean {
    return this.groups.some((g) => g.fanout?.mustWait === true);
  }

  async drained(): Promise<void> {
    await Promise.all(this.groups.map((g) => (g.fanout?.mustWait === true ? g.fanout.drained() : undefined)));
  }

  private group(side: Side, target: ExportTarget): void {
    const key = groupKey(side, target);
    const existing = this.groups.find((g) => g.side === side && groupKey(side, g.targets[0]!) === key);
    if (existing !== undefined) existing.targets.push(target);
    else this.groups.push({ side, targets: [target] });
  }

  private chain(group: Group): FlowConsumer {
    const first = group.targets[0]!;
    group.fanout = new Fanout(group.targets.map((t) => t.sink));
    const maxSegmentPayload = segmentCap(first.sink);
    group.synthesizer = new TcpSynthesizer(group.fanout, maxSegmentPayload === undefined ? {} : { maxSegmentPayload });
    const remapper = createRemapper(first.options.remap);
    const chain = remapper === undefined ? group.synthesizer : new RemappedFlows(remapper, group.synthesizer);
    const gate = this.options.keyGate;
    const gated = group.side === 'original' && gate !== undefined && group.targets.some((t) => t.sink.capabilities?.secrets !== undefined);
    if (!gated) return chain;
    const keyGate = new KeyGate(gate.keys, chain, gate.limits);
    this.gates.push(keyGate);
    return keyGate;
  }
}

function single(consumers: FlowConsumer[]): FlowConsumer {
  return consumers.length === 1 ? consumers[0]! : new FlowTee(consumers);
}

function groupKey(side: string, target: ExportTarget): string {
  return `${side}|${target.options.remap.join(',')}|${segmentCap(target.sink) ?? ''}`;
}

/** Encapsulating outputs (VXLAN, GENEVE) need room in the MTU; the smaller of the IPv4 and IPv6 caps serves both. */
function segmentCap(sink: PacketSink): number | undefined {
  const wire = sink.capabilities?.wire;
  return wire === undefined ? undefined : Math.min(wire.maxSegmentPayload(4), wire.maxSegmentPayload(6));
}
