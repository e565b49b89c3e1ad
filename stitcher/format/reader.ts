/**
 * Reads one CTAP object from a stream of chunks, block by block, in memory
 * bounded by one block. Bad bytes never throw: they become damage events,
 * and the blocks that check out are still handed on.
 */
import { decodeBlock, parseBlockHeader, type BlockHeader } from './block.js';
import type { ObjectDamage } from './damage.js';
import { checkTrailer, decodeEnd } from './end.js';
import { checkHeaderPrefix, decodeHeader, headerLength } from './header.js';
import { BLOCK_HEADER_BYTES, BLOCK_MAGIC, END_BYTES, END_MAGIC, HEADER_FIXED_BYTES, HEADER_PREFIX_BYTES } from './layout.js';
import { showMagic } from './outcome.js';
import type { CtapReadEvent, DamageEvent, ReaderOptions as BaseReaderOptions } from './read-events.js';
import { decodeRecords } from './record-decoder.js';
import type { ObjectHeader, ObjectTrailer } from './records.js';
import { StreamBuffer } from './stream-buffer.js';
import { isDirectSource, ReadWindow } from './read-window.js';
import type { ReadInput } from './read-input.js';

export type { CtapReadEvent, ObjectSummary } from './read-events.js';
export { isDirectSource, type DirectSource } from './read-window.js';

export interface ReaderOptions extends BaseReaderOptions {
  /**
   * With a source that reads into the caller's memory (see DirectSource), read
   * through one window reused for the whole object: nothing is allocated per
   * block, but the views in a `records` event (block, payloads, flow ids) are
   * only valid until the next event is asked for. Other sources ignore this.
   * @default false
   */
  readonly reuseBuffers?: boolean;
  /** How such a source's window is made (see ReadWindowOptions.allocate). @default Buffer.allocUnsafeSlow */
  readonly allocateWindow?: (bytes: number) => Buffer;
}

const MAGICS = [BLOCK_MAGIC, END_MAGIC];

/** Records handed on in one `records` event at most: a block of tiny records comes in parts. */
const RECORDS_PER_EVENT = 8192;

/** What to do after a block or an end was looked at. */
type Step = 'next' | 'resync' | 'stop';

/**
 * The events of one object: `header`, then `records` per good block and
 * `damage` where bytes are bad, and always exactly one `end` last. A corrupt
 * block is skipped by scanning for the next block or end whose structure
 * checks out. `name` is only used in reports.
 */
export async function* readCtapObject(
  name: string,
  source: AsyncIterable<Uint8Array>,
  options: ReaderOptions = {},
): AsyncGenerator<CtapReadEvent> {
  const reader = new ObjectReader(name, source, options);
  try {
    yield* reader.events();
  } finally {
    await reader.close();
  }
}

class ObjectReader {
  private readonly input: ReadInput;
  private header: ObjectHeader | undefined;
  private trailer: ObjectTrailer | undefined;
  private blocks = 0;
  private records = 0;
  /** Records framed in good blocks, unknown types included: what the end counts. */
  private framed = 0;
  private damages = 0;
  /** Set while the last damage already says the object is truncated (a cut-off block, an invalid end). */
  private truncationReported = false;

  constructor(
    private readonly name: string,
    source: AsyncIterable<Uint8Array>,
    private readonly options: ReaderOptions,
  ) {
    this.input = isDirectSource(source) ? new ReadWindow(source, { reuse: options.reuseBuffers, allocate: options.allocateWindow }) : new StreamBuffer(source);
  }

  async *events(): AsyncGenerator<CtapReadEvent> {
    try {
      this.header = yield* this.readHeader();
      if (this.header !== undefined) {
        yield { kind: 'header', header: this.header };
        yield* this.readBody();
      }
    } catch (error) {
      // A bug here must not cost the caller the rest of its objects.
      yield this.damage(this.input.offset, `reader failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    yield {
      kind: 'end',
      summary: {
        object: this.name,
        header: this.header,
        trailer: this.trailer,
        blocks: this.blocks,
        records: this.records,
        damaged: this.damages > 0,
        complete: this.trailer !== undefined,
      },
    };
  }

  close(): Promise<void> {
    return this.input.close();
  }

  private damage(offset: number, problem: string): DamageEvent {
    this.damages++;
    this.truncationReported = false;
    const damage: ObjectDamage = { object: this.name, offset, problem };
    return { kind: 'damage', damage };
  }

  /** The report when the bytes ran out: the source's failure if it failed, else `truncated`. */
  private endOfInput(offset: number, truncated: string): DamageEvent {
    const error = this.input.error;
    if (error !== undefined) return this.damage(this.input.received, `read failed: ${error.message}`);
    return this.damage(offset, truncated);
  }

  private async *readHeader(): AsyncGenerator<CtapReadEvent, ObjectHeader | undefined> {
    const { input } = this;
    await input.ensure(HEADER_PREFIX_BYTES);
    if (input.available === 0 && input.error === undefined) {
      yield this.damage(0, 'empty object (0 bytes): no CTAP header');
      return undefined;
    }
    const prefix = input.peek(Math.min(input.available, HEADER_PREFIX_BYTES));
    const problem = checkHeaderPrefix(prefix);
    if (problem !== undefined) {
      yield this.damage(0, problem);
      return undefined;
    }
    // With fewer than 9 bytes the gateway's length is unknown: the header has at least the fixed part.
    const known = prefix.length === HEADER_PREFIX_BYTES;
    const length = known ? headerLength(prefix) : HEADER_FIXED_BYTES;
    if (!(await input.ensure(length))) {
      yield this.endOfInput(input.available, `truncated in the header: ${input.available} of ${known ? '' : 'at least '}${length} bytes`);
      return undefined;
    }
    const decoded = decodeHeader(input.peek(length));
    if (!decoded.ok) {
      yield this.damage(0, decoded.problem);
      return undefined;
    }
    const expected = this.options.expectedKind;
    if (expected !== undefined && decoded.value.kind !== expected) {
      yield this.damage(0, `header says object kind ${decoded.value.kind}, its name promises kind ${expected}`);
      return undefined;
    }
    input.skip(length);
    return decoded.value;
  }

  private async *readBody(): AsyncGenerator<CtapReadEvent> {
    const { input } = this;
    for (;;) {
      const at = input.offset;
      let step: Step;
      if (!(await input.ensure(4))) {
        step = 'stop';
        if (input.available === 0) yield this.endOfInput(at, `truncated: no end after ${this.blocks} blocks`);
        else yield this.endOfInput(at, `truncated: ${input.available} stray bytes where a block or the end should start`);
      } else {
        const magic = input.peek(4);
        if (magic.equals(BLOCK_MAGIC)) step = yield* this.readBlock(at);
        else if (magic.equals(END_MAGIC)) step = yield* this.readEnd(at);
        else {
          yield this.damage(at, `expected a block or the end, found ${showMagic(magic)}`);
          step = 'resync';
        }
      }
      if (step === 'resync') step = yield* this.resync();
      if (step === 'stop') return;
    }
  }

  private async *readBlock(at: number): AsyncGenerator<CtapReadEvent, Step> {
    const { input } = this;
    if (!(await input.ensure(BLOCK_HEADER_BYTES))) {
      yield this.endOfInput(at, `truncated in a block header: ${input.available} of ${BLOCK_HEADER_BYTES} bytes`);
      return 'stop';
    }
    const parsed = parseBlockHeader(input.peek(BLOCK_HEADER_BYTES));
    if (!parsed.ok) {
      yield this.damage(at, `block: ${parsed.problem}`);
      return 'resync';
    }
    const header = parsed.value;
    const whole = await input.ensure(BLOCK_HEADER_BYTES + header.storedLen);
    if (!whole && input.error !== undefined) {
      yield this.endOfInput(at, '');
      return 'stop';
    }
    const stored = input.peek(Math.min(input.available, BLOCK_HEADER_BYTES + header.storedLen)).subarray(BLOCK_HEADER_BYTES);
    const decoded = decodeBlock(header, stored);
    if (!decoded.ok) {
      if (whole) yield this.damage(at, `block: ${decoded.problem}`);
      else {
        yield this.damage(at, truncatedBlock(header, stored.length));
        this.truncationReported = true;
      }
      return 'resync';
    }
    const { raw, consumed } = decoded.value;
    if (consumed !== header.storedLen) {
      // The data checked out (raw_crc), only stored_len lies: keep the block, go on where it really ends.
      yield this.damage(at, `block: stored_len ${header.storedLen} but its compressed data ends after ${consumed} bytes`);
    }
    input.skip(BLOCK_HEADER_BYTES + consumed);
    yield* this.handOn(at, raw);
    return 'next';
  }

  /** The block's records, in parts of at most RECORDS_PER_EVENT (see decodeRecords). */
  private *handOn(at: number, raw: Buffer): Generator<CtapReadEvent> {
    this.blocks++;
    let from = 0;
    let index = 0;
    do {
      const { records, next, framed, problems } = decodeRecords(raw, from, RECORDS_PER_EVENT, index);
      this.framed += framed;
      this.records += records.length;
      if (records.length > 0 || from === 0) yield { kind: 'records', offset: at, records };
      for (const { index: number, at: byte, problem } of problems) {
        yield this.damage(at, `record ${number} at byte ${byte} of the decoded block: ${problem}`);
      }
      from = next;
      index += framed;
    } while (from < raw.length);
  }

  private async *readEnd(at: number): AsyncGenerator<CtapReadEvent, Step> {
    const { input } = this;
    if (!(await input.ensure(END_BYTES))) {
      yield this.endOfInput(at, `truncated in the end: ${input.available} of ${END_BYTES} bytes`);
      return 'stop';
    }
    const decoded = decodeEnd(input.peek(END_BYTES));
    if (!decoded.ok) {
      yield this.damage(at, `invalid end, the object counts as truncated: ${decoded.problem}`);
      this.truncationReported = true;
      return 'resync';
    }
    input.skip(END_BYTES);
    this.trailer = decoded.value;
    // After damage the counts differ anyway; a mismatch on a sound object is a writer's fault worth its own report.
    const mismatch = this.damages === 0 ? checkTrailer(decoded.value, this.blocks, this.framed) : undefined;
    if (mismatch !== undefined) yield this.damage(at, mismatch);
    if (await input.ensure(1)) yield this.damage(input.offset, 'bytes follow the end');
    else if (input.error !== undefined) yield this.endOfInput(input.offset, '');
    return 'stop';
  }

  /**
   * Skips the byte at the current offset and scans for the next "BLK1" or
   * "END1" whose header parses (a block) or whose CRC holds (an end). A false
   * match inside compressed bytes is caught later by the block's CRC.
   */
  private async *resync(): AsyncGenerator<CtapReadEvent, Step> {
    const { input } = this;
    input.skip(1);
    for (;;) {
      const found = input.indexOfAny(MAGICS);
      if (found >= 0) {
        input.skip(found);
        if (await this.plausibleAt()) return 'next';
        input.skip(1);
        continue;
      }
      // Keep the last 3 bytes: a magic may straddle the next chunk.
      input.skip(Math.max(0, input.available - 3));
      if (input.ended) break;
      await input.pull();
    }
    if (input.error !== undefined) yield this.endOfInput(input.offset, '');
    else if (!this.truncationReported) yield this.damage(input.offset, 'truncated: no valid end after the damage');
    return 'stop';
  }

  /** Whether the magic at the current offset starts a structure worth trying (a cut-off one is: it will be reported as truncated). */
  private async plausibleAt(): Promise<boolean> {
    const { input } = this;
    const isBlock = input.peek(4).equals(BLOCK_MAGIC);
    const length = isBlock ? BLOCK_HEADER_BYTES : END_BYTES;
    if (!(await input.ensure(length))) return true;
    const bytes = input.peek(length);
    return isBlock ? parseBlockHeader(bytes).ok : decodeEnd(bytes).ok;
  }
}

function truncatedBlock(header: BlockHeader, present: number): string {
  return `truncated in a block: stored_len ${header.storedLen} but only ${present} bytes follow`;
}
