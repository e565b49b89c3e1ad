/**
 * The records of a CTAP object, decoded (see docs/ctap-format.md).
 * Times are nanoseconds since the Unix epoch as bigint: they exceed 2^53.
 */

export const CTAP_VERSION = 1;

export const enum ObjectKind {
  Traffic = 1,
  Keys = 2,
}

/** How a block's stored bytes are compressed. */
export const enum BlockCodec {
  None = 0,
  /** Raw deflate, RFC 1951 (no zlib or gzip wrapper). */
  Deflate = 1,
  Gzip = 2,
}

export const enum RecordType {
  FlowOpen = 1,
  Data = 2,
  FlowClose = 3,
  Gap = 4,
  TlsKeys = 5,
}

export const enum Direction {
  ClientToServer = 0,
  ServerToClient = 1,
}

export const enum CloseReason {
  FinFromClient = 0,
  FinFromServer = 1,
  RstFromClient = 2,
  RstFromServer = 3,
  IdleTimeout = 4,
  GatewayShutdown = 5,
}

export const enum TlvTag {
  User = 1,
  ServerName = 2,
  Application = 3,
  Policy = 4,
  ClientMss = 5,
  ServerMss = 6,
  Site = 7,
  SourceCountry = 8,
}

export interface ObjectHeader {
  readonly version: number;
  readonly kind: ObjectKind;
  readonly gateway: string;
  readonly seq: bigint;
  readonly createdNs: bigint;
}

export interface ObjectTrailer {
  readonly blockCount: number;
  readonly recordCount: bigint;
  readonly firstNs: bigint;
  readonly lastNs: bigint;
}

/** Optional FLOW_OPEN metadata; unknown tags are skipped (forward compatibility). */
export interface FlowTags {
  user?: string;
  serverName?: string;
  application?: string;
  policy?: string;
  clientMss?: number;
  serverMss?: number;
  site?: string;
  sourceCountry?: string;
}

export interface FlowOpenRecord {
  readonly type: RecordType.FlowOpen;
  /** 16 bytes, compared as a 32-character hex string by the flow table. */
  readonly flowId: Buffer;
  readonly tsNs: bigint;
  readonly ipVersion: 4 | 6;
  readonly l4: number;
  /** 4 or 16 bytes in network byte order. */
  readonly clientIp: Buffer;
  readonly clientPort: number;
  readonly serverIp: Buffer;
  readonly serverPort: number;
  readonly tags: FlowTags;
}

export interface DataRecord {
  readonly type: RecordType.Data;
  readonly flowId: Buffer;
  readonly tsNs: bigint;
  readonly dir: Direction;
  /** Position of payload[0] in that direction's byte stream. */
  readonly offset: bigint;
  /** A view into the decoded block: copy it if it must outlive the block. */
  readonly payload: Buffer;
}

export interface FlowCloseRecord {
  readonly type: RecordType.FlowClose;
  readonly flowId: Buffer;
  readonly tsNs: bigint;
  readonly reason: CloseReason;
  readonly bytesC2s: bigint;
  readonly bytesS2c: bigint;
}

export interface GapRecord {
  readonly type: RecordType.Gap;
  readonly flowId: Buffer;
  readonly tsNs: bigint;
  readonly dir: Direction;
  readonly offset: bigint;
  readonly length: bigint;
}

export interface TlsKeysRecord {
  readonly type: RecordType.TlsKeys;
  readonly tsNs: bigint;
  /** All zero when the gateway did not know the flow. */
  readonly flowId: Buffer;
  /** NSS key log lines (secrets: never log them). */
  readonly lines: string;
}

export type CtapRecord = FlowOpenRecord | DataRecord | FlowCloseRecord | GapRecord | TlsKeysRecord;
