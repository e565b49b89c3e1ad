/**
 * The TLS record layer of one direction: frames records out of a byte stream
 * that arrives in arbitrary pieces. A record inside one piece is handed on as a
 * view (no copy); only records that span pieces are assembled.
 */

export const enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
  Heartbeat = 24,
}

export const RECORD_HEADER_LENGTH = 5;
/** 2^14 plus the largest expansion TLS 1.2 allows (TLS 1.3 allows less). */
export const MAX_RECORD_BODY = 16384 + 2048;

export interface TlsRecord {
  readonly type: number;
  /** The legacy record version (0x0301 .. 0x0303). */
  readonly version: number;
  /** The 5 header bytes, the additional data of TLS 1.3 AEAD. */
  readonly header: Buffer;
  /** A view into the stream's piece: copy it to keep it beyond the callback. */
  readonly body: Buffer;
  /** Time of the piece that completed the record. */
  readonly tsNs: bigint;
  /** Stream offset of the record's first header byte. */
  readonly offset: bigint;
}

export class TlsFramingError extends Error {}

export class TlsRecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Stream offset of the first buffered byte. */
  private offset = 0n;

  /** Bytes held that do not yet make a whole record. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds the next piece of the stream and hands on every record it completes.
   * Throws TlsFramingError when the bytes are not TLS records (the offset says where).
   */
  push(data: Buffer, tsNs: bigint, onRecord: (record: TlsRecord) => void): void {
    let position = 0;
    if (this.buffered > 0) {
      position = this.completeBuffered(data, tsNs, onRecord);
      if (position < 0) return;
    }
    while (data.length - position >= RECORD_HEADER_LENGTH) {
      const length = recordBodyLength(data, position, this.offset);
      const end = position + RECORD_HEADER_LENGTH + length;
      if (end > data.length) break;
      onRecord(makeRecord(data.subarray(position, end), tsNs, this.offset));
      this.offset += BigInt(end - position);
      position = end;
    }
    if (position < data.length) {
      // Keep a copy: the piece may be a view into a buffer its owner reuses.
      this.chunks.push(Buffer.from(data.subarray(position)));
      this.buffered = data.length - position;
    }
  }

  /** Uses the start of `data` to finish the buffered record; returns where `data` goes on, or -1 when all was taken. */
  private completeBuffered(data: Buffer, tsNs: bigint, onRecord: (record: TlsRecord) => void): number {
    const total = this.buffered + data.length;
    if (total < RECORD_HEADER_LENGTH) return this.keep(data);
    const header = this.buffered >= RECORD_HEADER_LENGTH
      ? this.chunks[0].length >= RECORD_HEADER_LENGTH ? this.chunks[0] : Buffer.concat(this.chunks)
      : Buffer.concat([...this.chunks, data.subarray(0, RECORD_HEADER_LENGTH - this.buffered)]);
    const recordLength = RECORD_HEADER_LENGTH + recordBodyLength(header, 0, this.offset);
    if (total < recordLength) return this.keep(data);
    const taken = recordLength - this.buffered;
    const record = Buffer.concat([...this.chunks, data.subarray(0, taken)], recordLength);
    this.chunks = [];
    this.buffered = 0;
    onRecord(makeRecord(record, tsNs, this.offset));
    this.offset += BigInt(recordLength);
    return taken === data.length ? -1 : taken;
  }

  private keep(data: Buffer): number {
    this.chunks.push(Buffer.from(data));
    this.buffered += data.length;
    return -1;
  }
}

/** The body length of the record header at `position`; `at` is its stream offset, for the error. */
function recordBodyLength(data: Buffer, position: number, at: bigint): number {
  const type = data[position];
  const major = data[position + 1];
  const length = data.readUInt16BE(position + 3);
  if (type < ContentType.ChangeCipherSpec || type > ContentType.Heartbeat || major !== 3 || length > MAX_RECORD_BODY) {
    throw new TlsFramingError(`not a TLS record header at stream offset ${at} (type ${type}, version major ${major}, length ${length})`);
  }
  return length;
}

function makeRecord(bytes: Buffer, tsNs: bigint, offset: bigint): TlsRecord {
  return {
    type: bytes[0],
    version: bytes.readUInt16BE(1),
    header: bytes.subarray(0, RECORD_HEADER_LENGTH),
    body: bytes.subarray(RECORD_HEADER_LENGTH),
    tsNs,
    offset,
  };
}
