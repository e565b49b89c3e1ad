/**
 * What a checkpoint must know about flows, kept beside the data path: it sits
 * between the flow table and the packet synthesiser and notes, per gateway,
 * in which object each flow opened, which flows closed, and since which object
 * an open flow has held bytes it could not hand on yet. None of this is per
 * byte or per packet: one note per flow opened or closed, one look at the
 * gateway's open flows per object, one time comparison per event (the lag).
 */
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import type { FlowTable } from '../flow/flow-table.js';

interface Closed {
  readonly key: string;
  /** The object whose end closed it: records of the flow are in objects up to this one. */
  readonly closeSeq: bigint;
}

interface GatewayLedger {
  /** The <seq> of the object being read. */
  seq: bigint;
  /** The <seq> after the last object read to its end (or where a resume started): what a checkpoint may claim. */
  readNext: bigint | undefined;
  /** The furthest <seq> any run has read up to (positions only move forward; a re-shard compares them). */
  highWater: bigint;
  readonly openSeq: Map<string, bigint>;
  /** Since which object each open flow has held bytes not handed on. */
  readonly pendingSince: Map<string, bigint>;
  closed: Closed[];
}

export class FlowLedger implements FlowConsumer {
  /** Record time (ns) of the newest event handed on, for the lag. */
  newestTsNs = 0n;
  private readonly gateways = new Map<string, GatewayLedger>();

  /** @param keepCloses note closed flows (only checkpoints need them) */
  constructor(private readonly next: FlowConsumer, private readonly keepCloses: boolean) {}

  /** The pipeline is about to read object `seq` of `gateway`. */
  reading(gateway: string, seq: bigint): void {
    this.of(gateway).seq = seq;
  }

  openFlow(flow: FlowIdentity): void {
    if (this.keepCloses) {
      const ledger = this.of(flow.gateway);
      if (!ledger.openSeq.has(flow.key)) ledger.openSeq.set(flow.key, ledger.seq);
    }
    this.next.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (event.tsNs > this.newestTsNs) this.newestTsNs = event.tsNs;
    if (event.kind === 'close') this.closed(flow);
    this.next.flowEvent(flow, event);
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

  /** A flow carried over from a checkpoint, opened in object `openSeq`, holding bytes since `pendingSince`. */
  resumed(gateway: string, key: string, openSeq: bigint, pendingSince: bigint | undefined): void {
    const ledger = this.of(gateway);
    ledger.openSeq.set(key, openSeq);
    if (pendingSince !== undefined) ledger.pendingSince.set(key, pendingSince);
  }

  /** Flows closed in object `closeSeq` or before (from a checkpoint: an upper bound). */
  resumedClosed(gateway: string, keys: readonly string[], closeSeq: bigint): void {
    const ledger = this.of(gateway);
    for (const key of keys) ledger.closed.push({ key, closeSeq });
  }

  /** After an object of `gateway` was read to its end: which open flows now hold bytes they cannot hand on. */
  objectDone(gateway: string, table: FlowTable): void {
    const ledger = this.of(gateway);
    ledger.readNext = ledger.seq + 1n;
    for (const flow of table.openFlows(gateway)) {
      const key = flow.identity.key;
      if (flow.bufferedBytes === 0) ledger.pendingSince.delete(key);
      else if (!ledger.pendingSince.has(key)) ledger.pendingSince.set(key, ledger.seq);
    }
  }

  openSeqOf(gateway: string, key: string): bigint {
    return this.gateways.get(gateway)?.openSeq.get(key) ?? 0n;
  }

  pendingSinceOf(gateway: string, key: string): bigint | undefined {
    return this.gateways.get(gateway)?.pendingSince.get(key);
  }

  /**
   * Flow ids closed in object `resumeSeq` or later: a resume reads those objects
   * again and must neither open them twice nor take their records for orphans.
   * Older notes are dropped for good, since resume positions only move forward.
   */
  closedSince(gateway: string, resumeSeq: bigint): string[] {
    const ledger = this.gateways.get(gateway);
    if (ledger === undefined) return [];
    ledger.closed = ledger.closed.filter((closed) => closed.closeSeq >= resumeSeq);
    return ledger.closed.map((closed) => closed.key);
  }

  forget(gateway: string): void {
    this.gateways.delete(gateway);
  }

  private closed(flow: FlowIdentity): void {
    if (!this.keepCloses) return;
    const ledger = this.of(flow.gateway);
    ledger.openSeq.delete(flow.key);
    ledger.pendingSince.delete(flow.key);
    ledger.closed.push({ key: flow.key, closeSeq: ledger.seq });
  }

  private of(gateway: string): GatewayLedger {
    let ledger = this.gateways.get(gateway);
    if (ledger === undefined) {
      ledger = { seq: 0n, readNext: undefined, highWater: 0n, openSeq: new Map(), pendingSince: new Map(), closed: [] };
      this.gateways.set(gateway, ledger);
    }
    return ledger;
  }
}
