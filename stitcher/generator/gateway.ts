/**
 * One simulated gateway: collects the records of its flows into traffic
 * objects and their TLS keys into key objects, rolls an object over when it
 * reaches `objectBytes` or when the UTC hour changes (an object lives in
 * the hour it was started), numbers each kind from seq 0 and hands finished
 * objects to the uploader. Records are kept by reference until their
 * object is encoded, so memory stays near one object per gateway.
 */
import { ObjectKind, RecordType } from '../format/records.js';
import type { BlockCodec, CtapRecord } from '../format/records.js';
import { objectKey } from '../format/object-key.js';
import { CtapObjectWriter } from '../format/writer.js';
import { hourOf } from './clock.js';
import type { SeededRandom } from './random.js';
import type { RecordSink } from './tap.js';
import type { Uploader } from './uploader.js';

/** The fixed part of each record's encoding (type u8, body_len u32) plus its fixed fields, roughly. */
const RECORD_OVERHEAD = 48;

export interface GatewayOptions {
  readonly name: string;
  readonly root: string;
  readonly keyRoot: string;
  readonly objectBytes: number;
  /** Undefined: the writer's default. */
  readonly codec?: BlockCodec;
  readonly shuffle: boolean;
  /**
   * Share of DATA records written into a later object of the gateway than the
   * one open when they were tapped (1 to 3 objects later, never after their
   * flow's FLOW_CLOSE), as the format allows. @default 0
   */
  readonly scatterShare?: number;
  readonly random: SeededRandom;
  readonly uploader: Uploader;
}

class ObjectBatch {
  records: CtapRecord[] = [];
  bytes = 0;
  createdNs = 0n;
  nextSeq = 0n;
}

/** A DATA record held back for a later object. */
interface Deferred {
  readonly record: CtapRecord;
  readonly flow: string;
  /** Traffic objects still to finish before it is written. */
  objectsLeft: number;
}

export class SimulatedGateway implements RecordSink {
  private readonly traffic = new ObjectBatch();
  private readonly keys = new ObjectBatch();
  private deferred: Deferred[] = [];
  /** Held-back records to write with the next record of the next object. */
  private due: CtapRecord[] = [];

  constructor(private readonly options: GatewayOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** A traffic record (FLOW_OPEN, DATA, FLOW_CLOSE, GAP). */
  add(record: CtapRecord): void {
    const random = this.options.random;
    if (record.type === RecordType.Data && random.chance(this.options.scatterShare ?? 0)) {
      this.deferred.push({ record, flow: record.flowId.toString('hex'), objectsLeft: random.int(1, 3) });
      return;
    }
    this.append(this.traffic, ObjectKind.Traffic, record, () => {
      // A flow's DATA is never written after its FLOW_CLOSE's object: what it still holds back joins the close.
      if (record.type === RecordType.FlowClose) this.takeDeferred((held) => held.flow === record.flowId.toString('hex'));
    });
  }

  /** The key log lines of one flow, as a TLS_KEYS record in this gateway's key objects. */
  addKeys(flowId: Buffer, tsNs: bigint, lines: string): void {
    this.append(this.keys, ObjectKind.Keys, { type: RecordType.TlsKeys, tsNs, flowId, lines });
  }

  /** Finishes the open objects of both kinds (end of run). */
  flush(): void {
    if (this.traffic.records.length > 0) this.takeDeferred(() => true);
    this.finish(this.traffic, ObjectKind.Traffic);
    // Records held back past the last object: one more object of their own.
    this.takeDeferred(() => true);
    this.finish(this.traffic, ObjectKind.Traffic);
    this.finish(this.keys, ObjectKind.Keys);
  }

  /** `alongside` adds records that belong in the same object (held-back DATA) before it may be finished. */
  private append(batch: ObjectBatch, kind: ObjectKind, record: CtapRecord, alongside?: () => void): void {
    if (batch.records.length > 0 && hourOf(record.tsNs) !== hourOf(batch.createdNs)) this.finish(batch, kind);
    if (batch.records.length === 0) batch.createdNs = record.tsNs;
    this.push(batch, record);
    alongside?.();
    if (kind === ObjectKind.Traffic && this.due.length > 0) {
      for (const held of this.due.splice(0)) this.push(batch, held);
    }
    if (batch.bytes >= this.options.objectBytes) {
      this.finish(batch, kind);
      // Keys follow soon after the traffic they open, as a gateway flushes both on one timer.
      if (kind === ObjectKind.Traffic) this.finish(this.keys, ObjectKind.Keys);
    }
  }

  private push(batch: ObjectBatch, record: CtapRecord): void {
    batch.records.push(record);
    batch.bytes += RECORD_OVERHEAD + sizeOf(record);
  }

  private finish(batch: ObjectBatch, kind: ObjectKind): void {
    if (batch.records.length === 0) return;
    const { name, root, keyRoot } = this.options;
    const seq = batch.nextSeq++;
    const codec = this.options.codec;
    const writer = new CtapObjectWriter({ kind, gateway: name, seq, createdNs: batch.createdNs }, codec === undefined ? {} : { codec });
    const records = this.options.shuffle ? this.options.random.shuffle(batch.records) : batch.records;
    for (const record of records) writer.add(record);
    const data = writer.finish();
    const isKeys = kind === ObjectKind.Keys;
    this.options.uploader.add({
      key: objectKey(isKeys ? keyRoot : root, kind, name, seq, batch.createdNs),
      kind: isKeys ? 'keys' : 'traffic',
      gateway: name,
      seq,
      createdNs: batch.createdNs,
      bytes: data.length,
      records: records.length,
      data,
    });
    batch.records = [];
    batch.bytes = 0;
    if (kind === ObjectKind.Traffic) this.objectFinished();
  }

  /** Held-back records whose object count ran out go into the next object, with its first record. */
  private objectFinished(): void {
    if (this.deferred.length === 0) return;
    this.deferred = this.deferred.filter((held) => (--held.objectsLeft > 0 ? true : (this.due.push(held.record), false)));
  }

  /** Moves the held-back records that `which` picks (and those due) into the current traffic object. */
  private takeDeferred(which: (held: Deferred) => boolean): void {
    const batch = this.traffic;
    for (const held of this.due.splice(0)) this.push(batch, held);
    const kept: Deferred[] = [];
    for (const held of this.deferred) {
      if (which(held)) this.push(batch, held.record);
      else kept.push(held);
    }
    this.deferred = kept;
    if (batch.records.length > 0 && batch.createdNs === 0n) batch.createdNs = batch.records[0]!.tsNs;
  }
}

function sizeOf(record: CtapRecord): number {
  switch (record.type) {
    case RecordType.Data:
      return record.payload.length;
    case RecordType.TlsKeys:
      return record.lines.length;
    default:
      return 0;
  }
}
