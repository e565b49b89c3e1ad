/** One record as its bytes: type u8 | body_len u32 | body (docs/ctap-format.md, "Records"). */
import { checkLength, checkU64, checkUnsigned } from './integers.js';
import { RECORD_HEADER_BYTES } from './layout.js';
import { RecordType, type CtapRecord, type DataRecord, type FlowCloseRecord, type FlowOpenRecord, type GapRecord, type TlsKeysRecord } from './records.js';
import { encodeTags } from './tlv.js';

const FLOW_ID_BYTES = 16;

/** @throws RangeError naming the field that is out of range (a flow_id that is not 16 bytes, a port over 65535, ...). */
export function encodeRecord(record: CtapRecord): Buffer {
  switch (record.type) {
    case RecordType.FlowOpen:
      return encodeFlowOpen(record);
    case RecordType.Data:
      return encodeData(record);
    case RecordType.FlowClose:
      return encodeFlowClose(record);
    case RecordType.Gap:
      return encodeGap(record);
    case RecordType.TlsKeys:
      return encodeTlsKeys(record);
    default:
      throw new RangeError(`record type ${String((record as { type: unknown }).type)} is not one this writer knows`);
  }
}

/** A record buffer with its type and body_len filled in; the body is the caller's to write from RECORD_HEADER_BYTES on. */
function recordBuffer(type: RecordType, bodyLen: number): Buffer {
  checkUnsigned(bodyLen, 32, 'body_len');
  const bytes = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyLen);
  bytes[0] = type;
  bytes.writeUInt32LE(bodyLen, 1);
  return bytes;
}

function writeFlowIdAndTs(bytes: Buffer, flowId: Buffer, tsNs: bigint, at: number): number {
  checkLength(flowId, [FLOW_ID_BYTES], 'flow_id');
  checkU64(tsNs, 'ts_ns');
  flowId.copy(bytes, at);
  return bytes.writeBigUInt64LE(tsNs, at + FLOW_ID_BYTES);
}

function encodeFlowOpen(record: FlowOpenRecord): Buffer {
  if (record.ipVersion !== 4 && record.ipVersion !== 6) throw new RangeError(`ip_version ${String(record.ipVersion)} is neither 4 nor 6`);
  const addressBytes = record.ipVersion === 4 ? 4 : 16;
  checkLength(record.clientIp, [addressBytes], `client_ip of an IPv${record.ipVersion} flow`);
  checkLength(record.serverIp, [addressBytes], `server_ip of an IPv${record.ipVersion} flow`);
  checkUnsigned(record.l4, 8, 'l4');
  checkUnsigned(record.clientPort, 16, 'client_port');
  checkUnsigned(record.serverPort, 16, 'server_port');
  const tags = encodeTags(record.tags);
  const bytes = recordBuffer(RecordType.FlowOpen, FLOW_ID_BYTES + 8 + 2 + 2 * (addressBytes + 2) + tags.length);
  let at = writeFlowIdAndTs(bytes, record.flowId, record.tsNs, RECORD_HEADER_BYTES);
  bytes[at++] = record.ipVersion;
  bytes[at++] = record.l4;
  at += record.clientIp.copy(bytes, at);
  at = bytes.writeUInt16LE(record.clientPort, at);
  at += record.serverIp.copy(bytes, at);
  at = bytes.writeUInt16LE(record.serverPort, at);
  tags.copy(bytes, at);
  return bytes;
}

function checkDirection(dir: number): void {
  if (dir !== 0 && dir !== 1) throw new RangeError(`dir ${dir} is neither 0 (client-to-server) nor 1 (server-to-client)`);
}

function encodeData(record: DataRecord): Buffer {
  checkDirection(record.dir);
  checkU64(record.offset, 'offset');
  return encodeFlowEvent(RecordType.Data, record, record.dir, record.offset, record.payload);
}

function encodeFlowClose(record: FlowCloseRecord): Buffer {
  checkUnsigned(record.reason, 8, 'reason');
  checkU64(record.bytesC2s, 'bytes_c2s');
  checkU64(record.bytesS2c, 'bytes_s2c');
  return encodeFlowEvent(RecordType.FlowClose, record, record.reason, record.bytesC2s, record.bytesS2c);
}

function encodeGap(record: GapRecord): Buffer {
  checkDirection(record.dir);
  checkU64(record.offset, 'offset');
  checkU64(record.length, 'length');
  return encodeFlowEvent(RecordType.Gap, record, record.dir, record.offset, record.length);
}

/**
 * DATA, FLOW_CLOSE and GAP share one body layout: flow_id | ts_ns | a byte
 * (dir, reason) | a u64 (offset, bytes_c2s) | the rest: DATA's payload, or one
 * more u64 (GAP's length, FLOW_CLOSE's bytes_s2c). The caller has checked the fields.
 */
function encodeFlowEvent(
  type: RecordType,
  record: { readonly flowId: Buffer; readonly tsNs: bigint },
  byte: number,
  u64: bigint,
  rest: Buffer | bigint,
): Buffer {
  const bytes = recordBuffer(type, FLOW_ID_BYTES + 8 + 1 + 8 + (typeof rest === 'bigint' ? 8 : rest.length));
  let at = writeFlowIdAndTs(bytes, record.flowId, record.tsNs, RECORD_HEADER_BYTES);
  bytes[at++] = byte;
  at = bytes.writeBigUInt64LE(u64, at);
  if (typeof rest === 'bigint') bytes.writeBigUInt64LE(rest, at);
  else rest.copy(bytes, at);
  return bytes;
}

function encodeTlsKeys(record: TlsKeysRecord): Buffer {
  checkU64(record.tsNs, 'ts_ns');
  checkLength(record.flowId, [FLOW_ID_BYTES], 'flow_id');
  const lines = Buffer.from(record.lines, 'utf8');
  const bytes = recordBuffer(RecordType.TlsKeys, 8 + FLOW_ID_BYTES + lines.length);
  let at = bytes.writeBigUInt64LE(record.tsNs, RECORD_HEADER_BYTES);
  at += record.flowId.copy(bytes, at);
  lines.copy(bytes, at);
  return bytes;
}
