/**
 * Writes one CTAP object: header, blocks of whole records, end. The whole
 * object is built in memory because objects are uploaded whole (one PUT).
 */
import { encodeBlock } from './block.js';
import { encodeEnd } from './end.js';
import { encodeHeader, type HeaderFields } from './header.js';
import { MAX_RAW_BYTES } from './layout.js';
import { encodeRecord } from './record-encoder.js';
import { BlockCodec, type CtapRecord } from './records.js';

export type { HeaderFields } from './header.js';

export interface WriterOptions {
  /**
   * How blocks are compressed.
   * @default BlockCodec.Deflate
   */
  readonly codec?: BlockCodec;
  /**
   * Decoded bytes a block collects before the next record starts a new one.
   * A record larger than this gets a block of its own. 1 to 8 MiB.
   * @default 1 MiB
   */
  readonly blockBytes?: number;
}

const DEFAULT_BLOCK_BYTES = 1024 * 1024;

export class CtapObjectWriter {
  private readonly codec: BlockCodec;
  private readonly blockBytes: number;
  private readonly parts: Buffer[];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private blockCount = 0;
  private records = 0;
  private firstNs: bigint | undefined;
  private lastNs: bigint | undefined;
  private finished = false;

  /** @throws RangeError when a header field or an option is out of range. */
  constructor(header: HeaderFields, options: WriterOptions = {}) {
    this.codec = options.codec ?? BlockCodec.Deflate;
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    if (!Number.isInteger(this.blockBytes) || this.blockBytes < 1 || this.blockBytes > MAX_RAW_BYTES) {
      throw new RangeError(`blockBytes ${this.blockBytes} is not an integer from 1 to ${MAX_RAW_BYTES}`);
    }
    this.parts = [encodeHeader(header)];
    encodeBlock(Buffer.alloc(0), this.codec); // refuses an unknown codec now rather than at the first block
  }

  /** Records added so far. */
  get recordCount(): number {
    return this.records;
  }

  /** @throws RangeError when a field is out of range or the record is over 8 MiB; Error after finish(). */
  add(record: CtapRecord): void {
    if (this.finished) throw new Error('cannot add a record to a CTAP object that is finished');
    const bytes = encodeRecord(record);
    if (bytes.length > MAX_RAW_BYTES) throw new RangeError(`record of ${bytes.length} bytes is over the ${MAX_RAW_BYTES}-byte block limit`);
    if (this.pendingBytes > 0 && this.pendingBytes + bytes.length > this.blockBytes) this.flushBlock();
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.records++;
    if (this.firstNs === undefined || record.tsNs < this.firstNs) this.firstNs = record.tsNs;
    if (this.lastNs === undefined || record.tsNs > this.lastNs) this.lastNs = record.tsNs;
  }

  /** The whole object; the writer takes no records after this. */
  finish(): Buffer {
    if (this.finished) throw new Error('CTAP object is already finished');
    this.flushBlock();
    this.finished = true;
    this.parts.push(
      encodeEnd({ blockCount: this.blockCount, recordCount: BigInt(this.records), firstNs: this.firstNs ?? 0n, lastNs: this.lastNs ?? 0n }),
    );
    return Buffer.concat(this.parts);
  }

  private flushBlock(): void {
    if (this.pending.length === 0) return;
    this.parts.push(encodeBlock(Buffer.concat(this.pending, this.pendingBytes), this.codec));
    this.blockCount++;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** A whole object from a list of records. */
export function encodeCtapObject(header: HeaderFields, records: Iterable<CtapRecord>, options?: WriterOptions): Buffer {
  const writer = new CtapObjectWriter(header, options);
  for (const record of records) writer.add(record);
  return writer.finish();
}
