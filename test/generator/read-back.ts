/** Reads every CTAP object a generator run wrote back from its folder, for the generator's tests. */
import { readCtapObject } from '../../stitcher/format/reader.js';
import { parseObjectKey } from '../../stitcher/format/object-key.js';
import type { ParsedObjectKey } from '../../stitcher/format/object-key.js';
import { RecordType } from '../../stitcher/format/records.js';
import type { CtapRecord, DataRecord, FlowCloseRecord, FlowOpenRecord, GapRecord, ObjectHeader, TlsKeysRecord } from '../../stitcher/format/records.js';
import { listAll } from '../../stitcher/store/store.js';
import type { ObjectStore } from '../../stitcher/store/store.js';

export interface ReadObject {
  readonly key: string;
  readonly parsed: ParsedObjectKey;
  readonly header: ObjectHeader;
  readonly records: CtapRecord[];
  readonly damage: string[];
}

export async function readAllObjects(store: ObjectStore): Promise<ReadObject[]> {
  const objects: ReadObject[] = [];
  for await (const info of listAll(store, '')) {
    const parsed = parseObjectKey(info.key);
    if (parsed === undefined) throw new Error(`unexpected key ${info.key}`);
    let header: ObjectHeader | undefined;
    const records: CtapRecord[] = [];
    const damage: string[] = [];
    for await (const event of readCtapObject(info.key, await store.read(info.key))) {
      if (event.kind === 'header') header = event.header;
      else if (event.kind === 'records') records.push(...event.records.map(copyRecord));
      else if (event.kind === 'damage') damage.push(event.damage.problem);
    }
    if (header === undefined) throw new Error(`object ${info.key} has no readable header: ${damage.join('; ')}`);
    objects.push({ key: info.key, parsed, header, records, damage });
  }
  return objects;
}

/** Payloads are views into a block: copy them so they outlive it. */
function copyRecord(record: CtapRecord): CtapRecord {
  return record.type === RecordType.Data ? { ...record, payload: Buffer.from(record.payload) } : record;
}

export interface FlowRecords {
  opens: FlowOpenRecord[];
  data: DataRecord[];
  closes: FlowCloseRecord[];
  gaps: GapRecord[];
  /** Keys of traffic objects that hold a record of the flow. */
  objectKeys: Set<string>;
}

/** Traffic records grouped by flow id (hex). */
export function recordsByFlow(objects: readonly ReadObject[]): Map<string, FlowRecords> {
  const flows = new Map<string, FlowRecords>();
  for (const object of objects) {
    for (const record of object.records) {
      if (record.type === RecordType.TlsKeys) continue;
      const id = record.flowId.toString('hex');
      let flow = flows.get(id);
      if (flow === undefined) {
        flow = { opens: [], data: [], closes: [], gaps: [], objectKeys: new Set() };
        flows.set(id, flow);
      }
      flow.objectKeys.add(object.key);
      if (record.type === RecordType.FlowOpen) flow.opens.push(record);
      else if (record.type === RecordType.Data) flow.data.push(record);
      else if (record.type === RecordType.FlowClose) flow.closes.push(record);
      else if (record.type === RecordType.Gap) flow.gaps.push(record);
    }
  }
  return flows;
}

export function keyRecords(objects: readonly ReadObject[]): { gateway: string; record: TlsKeysRecord }[] {
  const keys: { gateway: string; record: TlsKeysRecord }[] = [];
  for (const object of objects) {
    for (const record of object.records) {
      if (record.type === RecordType.TlsKeys) keys.push({ gateway: object.header.gateway, record });
    }
  }
  return keys;
}

export interface Reassembled {
  readonly bytes: Buffer;
  /** Which bytes some DATA record covered. */
  readonly covered: Uint8Array;
  /** Bytes written twice that disagreed. */
  readonly conflicts: number;
}

/** One direction's stream placed by offset, independently of the stitcher's reassembly. */
export function reassemble(data: readonly DataRecord[], dir: number, length: number): Reassembled {
  const bytes = Buffer.alloc(length);
  const covered = new Uint8Array(length);
  let conflicts = 0;
  for (const record of data) {
    if (record.dir !== dir) continue;
    const offset = Number(record.offset);
    if (offset + record.payload.length > length) throw new Error(`DATA at ${offset}+${record.payload.length} beyond stream length ${length}`);
    for (let i = 0; i < record.payload.length; i++) {
      const at = offset + i;
      if (covered[at] === 1 && bytes[at] !== record.payload[i]) conflicts++;
      bytes[at] = record.payload[i]!;
      covered[at] = 1;
    }
  }
  return { bytes, covered, conflicts };
}
