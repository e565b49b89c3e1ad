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
  readonly random: SeededRandom;
  readonly uploader: Uploader;
}

class ObjectBatch {
  records: CtapRecord[] = [];
  bytes = 0;
  createdNs = 0n;
  nextSeq = 0n;
}

export class SimulatedGateway implements RecordSink {
  private readonly traffic = new ObjectBatch();
  private readonly keys = new ObjectBatch();

  constructor(private readonly options: GatewayOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** A traffic record (FLOW_OPEN, DATA, FLOW_CLOSE, GAP). */
  add(record: CtapRecord): void {
    this.append(this.traffic, ObjectKind.Traffic, record);
  }

  /** The key log lines of one flow, as a TLS_KEYS record in this gateway's key objects. */
  addKeys(flowId: Buffer, tsNs: bigint, lines: string): void {
    this.append(this.keys, ObjectKind.Keys, { type: RecordType.TlsKeys, tsNs, flowId, lines });
  }

  /** Finishes the open objects of both kinds (end of run). */
  flush(): void {
    this.finish(this.traffic, ObjectKind.Traffic);
    this.finish(this.keys, ObjectKind.Keys);
  }

  private append(batch: ObjectBatch, kind: ObjectKind, record: CtapRecord): void {
    if (batch.records.length > 0 && hourOf(record.tsNs) !== hourOf(batch.createdNs)) this.finish(batch, kind);
    if (batch.records.length === 0) batch.createdNs = record.tsNs;
    batch.records.push(record);
    batch.bytes += RECORD_OVERHEAD + sizeOf(record);
    if (batch.bytes >= this.options.objectBytes) {
      this.finish(batch, kind);
      // Keys follow soon after the traffic they open, as a gateway flushes both on one timer.
      if (kind === ObjectKind.Traffic) this.finish(this.keys, ObjectKind.Keys);
    }
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
