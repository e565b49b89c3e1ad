/**
 * The TLS record layer of one direction: frames records out of a byte stream
 * that arrives in arbitrary pieces. A record inside one piece is handed on as a
 * view (no copy); a record that spans pieces is assembled with one copy, into
 * the buffer of the record the same piece completed when it is of the same
 * size (bulk data: every full record is), so a stream of pieces that each end
 * inside a record allocates nothing per record.
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
  /** The header of a record cut inside its first 5 bytes. */
  private readonly header = Buffer.alloc(RECORD_HEADER_LENGTH);
  private headerFill = 0;
  /** A record cut after its header: allocated whole once, filled as pieces come (one copy). */
  private partial: Buffer | undefined;
  private partialFill = 0;
  /** The buffer of a record completed (and handed on) during the current push, for the next partial record. */
  private spare: Buffer | undefined;
  /** Stream offset of the next record's first byte. */
  private offset: bigint;

  /** @param startOffset the stream offset of the first byte pushed: a record starts there */
  constructor(startOffset = 0n) {
    this.offset = startOffset;
  }

  /** Stream offset where the next record starts (bytes from there are held until it is whole). */
  get recordStart(): bigint {
    return this.offset;
  }

  /** Bytes held that do not yet make a whole record. */
  get pendingBytes(): number {
    return this.headerFill + this.partialFill;
  }

  /**
   * Adds the next piece of the stream and hands on every record it completes.
   * Throws TlsFramingError when the bytes are not TLS records (the offset says where).
   */
  push(data: Buffer, tsNs: bigint, onRecord: (record: TlsRecord) => void): void {
    try {
      this.frame(data, tsNs, onRecord);
    } finally {
      // Kept no longer than the push: a quiet direction holds at most its record in progress.
      this.spare = undefined;
    }
  }

  private frame(data: Buffer, tsNs: bigint, onRecord: (record: TlsRecord) => void): void {
    let position = 0;
    while (position < data.length) {
      if (this.partial !== undefined) {
        position += this.fillPartial(data, position, tsNs, onRecord);
      } else if (this.headerFill > 0) {
        const taken = Math.min(RECORD_HEADER_LENGTH - this.headerFill, data.length - position);
        data.copy(this.header, this.headerFill, position, position + taken);
        this.headerFill += taken;
        position += taken;
        if (this.headerFill === RECORD_HEADER_LENGTH) this.startPartial(this.header, 0, tsNs, onRecord);
      } else if (data.length - position < RECORD_HEADER_LENGTH) {
        this.headerFill = data.copy(this.header, 0, position);
        position = data.length;
      } else {
        const end = position + RECORD_HEADER_LENGTH + recordBodyLength(data, position, this.offset);
        if (end <= data.length) {
          this.emit(data.subarray(position, end), tsNs, onRecord);
          position = end;
        } else {
          this.startPartial(data, position, tsNs, onRecord);
          position += RECORD_HEADER_LENGTH;
        }
      }
    }
  }

  /** Allocates the record whose header is at `data[position]` and takes its header. */
  private startPartial(data: Buffer, position: number, tsNs: bigint, onRecord: (record: TlsRecord) => void): void {
    const length = RECORD_HEADER_LENGTH + recordBodyLength(data, position, this.offset);
    this.headerFill = 0;
    if (length === RECORD_HEADER_LENGTH) {
      this.emit(Buffer.from(data.subarray(position, position + length)), tsNs, onRecord);
      return;
    }
    // The spare's record was only lent to onRecord, which copies what it keeps.
    this.partial = this.spare?.length === length ? this.spare : Buffer.allocUnsafe(length);
    this.spare = undefined;
    this.partialFill = data.copy(this.partial, 0, position, position + RECORD_HEADER_LENGTH);
  }

  /** Copies what `data` has of the partial record; returns the bytes taken. */
  private fillPartial(data: Buffer, position: number, tsNs: bigint, onRecord: (record: TlsRecord) => void): number {
    const partial = this.partial as Buffer;
    const taken = data.copy(partial, this.partialFill, position, position + partial.length - this.partialFill);
    this.partialFill += taken;
    if (this.partialFill === partial.length) {
      this.partial = undefined;
      this.partialFill = 0;
      this.emit(partial, tsNs, onRecord);
      this.spare = partial;
    }
    return taken;
  }

  private emit(bytes: Buffer, tsNs: bigint, onRecord: (record: TlsRecord) => void): void {
    const offset = this.offset;
    this.offset += BigInt(bytes.length);
    onRecord(makeRecord(bytes, tsNs, offset));
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
