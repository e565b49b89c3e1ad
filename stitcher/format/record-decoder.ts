/**
 * The records of one decoded block, back to back. This is the hot path:
 * direct reads, and every Buffer handed out (flow ids, addresses, DATA
 * payloads) is a view into the block, never a copy.
 */
import { RECORD_HEADER_BYTES } from './layout.js';
import { RecordType, type CloseReason, type CtapRecord, type Direction, type FlowOpenRecord } from './records.js';
import { decodeTags } from './tlv.js';

export interface RecordProblem {
  /** 0-based position of the record in the block. */
  readonly index: number;
  /** Byte offset of the record in the decoded block. */
  readonly at: number;
  readonly problem: string;
}

export interface DecodedRecords {
  readonly records: CtapRecord[];
  /** Byte offset in the block where decoding stopped: the block's length when it is done. */
  readonly next: number;
  /** Records whose framing held, known or not: what the end's record_count counts. */
  readonly framed: number;
  /** Empty for a sound block. */
  readonly problems: RecordProblem[];
}

const TYPE_NAMES: Record<number, string> = { 1: 'FLOW_OPEN', 2: 'DATA', 3: 'FLOW_CLOSE', 4: 'GAP', 5: 'TLS_KEYS' };
const MIN_BODY: Record<number, number> = { 1: 38, 2: 33, 3: 41, 4: 41, 5: 24 };

/**
 * Decodes the records of a block from byte `from` (record number `firstIndex`),
 * at most `maxRecords` of them: a block of a hundred thousand tiny records is
 * handed on in parts, so that its record objects never all live at once. A
 * body_len that runs past the block ends the block (nothing after it can be
 * framed); a body that is malformed for its type loses that record only.
 * Unknown types are skipped.
 */
export function decodeRecords(raw: Buffer, from = 0, maxRecords = Infinity, firstIndex = 0): DecodedRecords {
  const records: CtapRecord[] = [];
  const problems: RecordProblem[] = [];
  const end = raw.length;
  let at = from;
  let index = firstIndex;
  while (at < end && index - firstIndex < maxRecords) {
    if (end - at < RECORD_HEADER_BYTES) {
      problems.push({ index, at, problem: `${end - at} stray bytes after the last record (a record header takes ${RECORD_HEADER_BYTES})` });
      at = end;
      break;
    }
    const type = raw[at];
    const bodyAt = at + RECORD_HEADER_BYTES;
    const bodyEnd = bodyAt + raw.readUInt32LE(at + 1);
    if (bodyEnd > end) {
      problems.push({ index, at, problem: `type ${type} body_len ${bodyEnd - bodyAt} runs past the end of the block (${end - bodyAt} bytes left)` });
      at = end;
      break;
    }
    const decoded = decodeBody(type, raw, bodyAt, bodyEnd);
    if (typeof decoded === 'string') problems.push({ index, at, problem: decoded });
    else if (decoded !== undefined) records.push(decoded);
    at = bodyEnd;
    index++;
  }
  return { records, next: at, framed: index - firstIndex, problems };
}

/** The record, the problem with its body, or undefined for a type this reader does not know. */
function decodeBody(type: number, raw: Buffer, at: number, end: number): CtapRecord | string | undefined {
  const minimum = MIN_BODY[type];
  if (minimum === undefined) return undefined;
  if (end - at < minimum) return `${TYPE_NAMES[type]} body of ${end - at} bytes is too short (at least ${minimum})`;
  switch (type) {
    case RecordType.FlowOpen:
      return decodeFlowOpen(raw, at, end);
    case RecordType.FlowClose:
      // Reasons beyond 5 are kept as they are: a newer gateway may add some.
      return {
        type: RecordType.FlowClose,
        flowId: raw.subarray(at, at + 16),
        tsNs: raw.readBigUInt64LE(at + 16),
        reason: raw[at + 24] as CloseReason,
        bytesC2s: raw.readBigUInt64LE(at + 25),
        bytesS2c: raw.readBigUInt64LE(at + 33),
      };
    case RecordType.Data:
    case RecordType.Gap: {
      // Both begin flow_id | ts_ns | dir | offset; DATA goes on with the payload, GAP with its length.
      const dir = raw[at + 24];
      if (dir > 1) return `${TYPE_NAMES[type]} dir ${dir} is neither 0 nor 1`;
      const flowId = raw.subarray(at, at + 16);
      const tsNs = raw.readBigUInt64LE(at + 16);
      const offset = raw.readBigUInt64LE(at + 25);
      return type === RecordType.Data
        ? { type: RecordType.Data, flowId, tsNs, dir: dir as Direction, offset, payload: raw.subarray(at + 33, end) }
        : { type: RecordType.Gap, flowId, tsNs, dir: dir as Direction, offset, length: raw.readBigUInt64LE(at + 33) };
    }
    default:
      return {
        type: RecordType.TlsKeys,
        tsNs: raw.readBigUInt64LE(at),
        flowId: raw.subarray(at + 8, at + 24),
        lines: raw.toString('utf8', at + 24, end),
      };
  }
}

function decodeFlowOpen(raw: Buffer, at: number, end: number): FlowOpenRecord | string {
  const ipVersion = raw[at + 24];
  if (ipVersion !== 4 && ipVersion !== 6) return `FLOW_OPEN ip_version ${ipVersion} is neither 4 nor 6`;
  const addressBytes = ipVersion === 4 ? 4 : 16;
  const clientIpAt = at + 26;
  const serverIpAt = clientIpAt + addressBytes + 2;
  const tagsAt = serverIpAt + addressBytes + 2;
  if (tagsAt > end) return `FLOW_OPEN body of ${end - at} bytes is too short for IPv${ipVersion} addresses (at least ${tagsAt - at})`;
  const tags = decodeTags(raw, tagsAt, end);
  if (typeof tags === 'string') return `FLOW_OPEN ${tags}`;
  return {
    type: RecordType.FlowOpen,
    flowId: raw.subarray(at, at + 16),
    tsNs: raw.readBigUInt64LE(at + 16),
    ipVersion,
    l4: raw[at + 25],
    clientIp: raw.subarray(clientIpAt, clientIpAt + addressBytes),
    clientPort: raw.readUInt16LE(clientIpAt + addressBytes),
    serverIp: raw.subarray(serverIpAt, serverIpAt + addressBytes),
    serverPort: raw.readUInt16LE(serverIpAt + addressBytes),
    tags,
  };
}
