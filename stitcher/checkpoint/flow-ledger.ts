/**
 * What a checkpoint must know about flows, kept beside the data path: it sits
 * between the flow table and the export graph and notes, per gateway, in which
 * object each flow opened, which flows closed, and for each open flow which
 * objects hold the bytes past each point it handed on (its marks), so that a
 * resume can hand bytes again from wherever a stage downstream (a key gate, a
 * TLS decryptor) still held them. A flow a stage holds past its close lingers
 * open for checkpoints until the stage lets it go. None of this is per byte
 * or per packet: one note per flow opened or closed, one look at the
 * gateway's open flows per object, one time comparison per event (the lag).
 */
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import type { FlowState } from '../flow/flow-state.js';
import type { FlowTable } from '../flow/flow-table.js';
import type { ResumableStage, StreamOffsets } from '../flow/resumable.js';
import type { TcpSynthesizer } from '../flow/tcp-synthesizer.js';

interface Closed {
  readonly key: string;
  /** The object whose end closed it: records of the flow are in objects up to this one. */
  readonly closeSeq: bigint;
}

/** Every byte at or past `handedOn` (per direction) is in objects from `from` on. */
interface Mark {
  readonly handedOn: StreamOffsets;
  from: bigint;
}

interface OpenNote {
  readonly openSeq: bigint;
  /** Since which object the flow has held bytes it could not hand on (waiting for a hole). */
  pendingSince: bigint | undefined;
  /** Oldest first; the first one always holds for offsets [0, 0] or the resume point. */
  readonly marks: Mark[];
}

/** A flow closed in the table that a stage still holds (its keys may come yet). */
export interface LingeringFlow {
  readonly identity: FlowIdentity;
  readonly openSeq: bigint;
  readonly closeTsNs: bigint;
  /** Per synthesiser: whether it had a connection when the flow closed (then it closed it, or still has it). */
  readonly hadConnection: readonly boolean[];
}

interface GatewayLedger {
  /** The <seq> of the object being read. */
  seq: bigint;
  /** The <seq> after the last object read to its end (or where a resume started): what a checkpoint may claim. */
  readNext: bigint | undefined;
  /** The furthest <seq> any run has read up to (positions only move forward; a re-shard compares them). */
  highWater: bigint;
  readonly open: Map<string, OpenNote>;
  readonly lingering: Map<string, LingeringFlow>;
  closed: Closed[];
}

export interface LedgerParts {
  /** The stages that may hold a flow's bytes (see flow/resumable.ts). */
  readonly stages: readonly ResumableStage[];
  readonly synthesizers: readonly TcpSynthesizer[];
}

export class FlowLedger implements FlowConsumer {
  /** Record time (ns) of the newest event handed on, for the lag. */
  newestTsNs = 0n;
  private readonly gateways = new Map<string, GatewayLedger>();

  /** @param keepCloses note flows (only checkpoints need them) */
  constructor(private readonly next: FlowConsumer, private readonly keepCloses: boolean, private readonly parts: LedgerParts) {}

  get stages(): readonly ResumableStage[] {
    return this.parts.stages;
  }

  /** The pipeline is about to read object `seq` of `gateway`. */
  reading(gateway: string, seq: bigint): void {
    this.of(gateway).seq = seq;
  }

  openFlow(flow: FlowIdentity): void {
    if (this.keepCloses) {
      const ledger = this.of(flow.gateway);
      if (!ledger.open.has(flow.key)) ledger.open.set(flow.key, { openSeq: ledger.seq, pendingSince: undefined, marks: [{ handedOn: [0, 0], from: ledger.seq }] });
    }
    this.next.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (event.tsNs > this.newestTsNs) this.newestTsNs = event.tsNs;
    if (event.kind !== 'close' || !this.keepCloses) {
      this.next.flowEvent(flow, event);
      return;
    }
    const hadConnection = this.parts.synthesizers.map((s) => s.hasConnection(flow.gateway, flow.key));
    this.next.flowEvent(flow, event);
    this.closed(flow, event.tsNs, hadConnection);
  }

  /** A gateway resumed from a checkpoint: read again from `resumeSeq`, read before up to `nextSeq`. */
  resumedGateway(gateway: string, resumeSeq: bigint, nextSeq: bigint): void {
    const ledger = this.of(gateway);
    ledger.readNext = resumeSeq;
    if (nextSeq > ledger.highWater) ledger.highWater = nextSeq;
  }

  /** Gateways read (or resumed) in this run, with the <seq> after the last object read and the furthest ever read. */
  *positions(): IterableIterator<[gateway: string, readNext: bigint, highWater: bigint]> {
    for (const [gateway, ledger] of this.gateways) {
      if (ledger.readNext !== undefined) yield [gateway, ledger.readNext, ledger.highWater > ledger.readNext ? ledger.highWater : ledger.readNext];
    }
  }

  /** A flow carried over from a checkpoint, opened in object `openSeq`, handed on again from `from` (in objects from `resumeSeq` on). */
  resumed(gateway: string, key: string, openSeq: bigint, from: StreamOffsets, resumeSeq: bigint): void {
    this.of(gateway).open.set(key, { openSeq, pendingSince: undefined, marks: [{ handedOn: from, from: resumeSeq }] });
  }

  /** Flows closed in object `closeSeq` or before (from a checkpoint: an upper bound). */
  resumedClosed(gateway: string, keys: readonly string[], closeSeq: bigint): void {
    const ledger = this.of(gateway);
    for (const key of keys) ledger.closed.push({ key, closeSeq });
  }

  /** After an object of `gateway` was read to its end: where each open flow's bytes now stand. */
  objectDone(gateway: string, table: FlowTable): void {
    const ledger = this.of(gateway);
    ledger.readNext = ledger.seq + 1n;
    for (const flow of table.openFlows(gateway)) {
      const note = ledger.open.get(flow.identity.key);
      if (note === undefined) continue;
      if (flow.bufferedBytes === 0) note.pendingSince = undefined;
      else note.pendingSince ??= ledger.seq;
      mark(note, handedOn(flow), note.pendingSince ?? ledger.seq + 1n);
    }
    this.releaseLingering(ledger);
  }

  /**
   * The object a resume must read the flow from so that every byte from `from` on
   * is handed again (the stages downstream held them), and the marks before it
   * are forgotten: `from` never goes back.
   */
  takeResumeSeq(gateway: string, key: string, from: StreamOffsets): bigint {
    const note = this.gateways.get(gateway)?.open.get(key);
    if (note === undefined) return 0n;
    let at = 0;
    for (let i = 1; i < note.marks.length && covers(from, note.marks[i]!.handedOn); i++) at = i;
    note.marks.splice(0, at);
    return note.marks[0]!.from;
  }

  openSeqOf(gateway: string, key: string): bigint {
    return this.gateways.get(gateway)?.open.get(key)?.openSeq ?? 0n;
  }

  /**
   * Flows closed in the table that a stage still holds: a checkpoint carries them as open.
   * Those the stages let go of since the last call are dropped first.
   */
  sweepLingering(gateway: string): LingeringFlow[] {
    const ledger = this.gateways.get(gateway);
    if (ledger === undefined) return [];
    this.releaseLingering(ledger);
    return [...ledger.lingering.values()];
  }

  /**
   * Flow ids closed in object `resumeSeq` or later: a resume reads those objects
   * again and must neither open them twice nor take their records for orphans.
   * Older notes are dropped for good, since resume positions only move forward.
   */
  pruneToClosedSince(gateway: string, resumeSeq: bigint): string[] {
    const ledger = this.gateways.get(gateway);
    if (ledger === undefined) return [];
    ledger.closed = ledger.closed.filter((closed) => closed.closeSeq >= resumeSeq);
    return ledger.closed.map((closed) => closed.key);
  }

  forget(gateway: string): void {
    this.gateways.delete(gateway);
  }

  private closed(flow: FlowIdentity, tsNs: bigint, hadConnection: readonly boolean[]): void {
    const ledger = this.of(flow.gateway);
    const note = ledger.open.get(flow.key);
    ledger.open.delete(flow.key);
    if (this.parts.stages.some((stage) => stage.holds(flow.gateway, flow.key))) {
      ledger.lingering.set(flow.key, { identity: flow, openSeq: note?.openSeq ?? ledger.seq, closeTsNs: tsNs, hadConnection });
    } else {
      ledger.closed.push({ key: flow.key, closeSeq: ledger.seq });
    }
  }

  /** Lingering flows no stage holds any more are closed for good (in the object being read, or before). */
  private releaseLingering(ledger: GatewayLedger): void {
    for (const [key, flow] of ledger.lingering) {
      if (this.parts.stages.some((stage) => stage.holds(flow.identity.gateway, key))) continue;
      ledger.lingering.delete(key);
      ledger.closed.push({ key, closeSeq: ledger.seq });
    }
  }

  private of(gateway: string): GatewayLedger {
    let ledger = this.gateways.get(gateway);
    if (ledger === undefined) {
      ledger = { seq: 0n, readNext: undefined, highWater: 0n, open: new Map(), lingering: new Map(), closed: [] };
      this.gateways.set(gateway, ledger);
    }
    return ledger;
  }
}

/** Offsets handed on by the flow table, per direction. */
export function handedOn(flow: FlowState): StreamOffsets {
  return [flow.directions[0].next, flow.directions[1].next];
}

/** Notes where the flow stands after an object; the last mark is replaced when nothing was handed on since. */
function mark(note: OpenNote, offsets: StreamOffsets, from: bigint): void {
  const last = note.marks.at(-1);
  if (last !== undefined && last.handedOn[0] === offsets[0] && last.handedOn[1] === offsets[1]) last.from = from;
  else note.marks.push({ handedOn: offsets, from });
}

function covers(from: StreamOffsets, offsets: StreamOffsets): boolean {
  return offsets[0] <= from[0] && offsets[1] <= from[1];
}
