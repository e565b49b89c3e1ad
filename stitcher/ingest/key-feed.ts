/**
 * Reads the TLS key objects (kind 2) of every gateway and passes on their valid
 * NSS key log lines, each once. The lines are secrets: they go to the outputs that
 * embed them (key log files, pcapng Decryption Secrets Blocks) and to the key
 * store, nowhere else.
 *
 * A key object is someone else's writing and may be hostile: every line is
 * validated (see keylog.ts) and only the validated form is passed on; the text is
 * walked line by line, never split into an array; an object gives at most
 * `maxBytesPerObject` of key log text, and is not read past it (counted); and what
 * was dropped is told once per object, as counts.
 */
import { ObjectKind, RecordType } from '../format/records.js';
import type { ObjectStore } from '../store/store.js';
import { ObjectFeed, type FeedOptions, type HourWindow, type SeqGap } from './object-feed.js';
import { readObject } from './read-object.js';
import type { ObjectDamage } from '../format/damage.js';
import { formatKeyLogLine, isSessionEntry, KeyLogTally, scanKeyLog, type AnyKeyLogEntry, type KeyLineProblem, type KeyLogEntry } from '../tls/keylog.js';
import { SeenKeyLines, type SeenKeyLinesOptions } from './seen-key-lines.js';

export interface KeyFeedStats {
  objects: number;
  damaged: number;
  /** Valid lines passed on (first sightings). */
  lines: number;
  /** Valid lines seen before, not passed on again. */
  duplicates: number;
  /** Lines dropped as invalid. */
  invalid: number;
  /** Bytes of key log text skipped because their object was over `maxBytesPerObject` (the record that went over). */
  bytesSkipped: number;
  /** Objects cut short by that limit: the rest of such an object is not read at all. */
  objectsCut: number;
}

/** Valid lines of a TLS_KEYS record (all of them, or the next batch of a large record). */
export interface KeyLogBatch {
  /** The lines not passed on before, in their validated form, newline-terminated ('' when none). */
  readonly fresh: string;
  /** Every valid session entry of the record (repeats too: the key store refreshes them). */
  readonly entries: readonly KeyLogEntry[];
  readonly objectKey: string;
}

/** Told once per key object that had lines dropped or was cut short: counts, never content. */
export interface KeyObjectReport {
  readonly objectKey: string;
  readonly valid: number;
  readonly invalid: number;
  readonly firstInvalidLine: number | undefined;
  readonly problems: Partial<Record<KeyLineProblem, number>>;
  /** Key log bytes of the record that went over the object's limit (the object is not read past it). */
  readonly bytesSkipped: number;
  /** Whether the object was cut short by its limit. */
  readonly cut: boolean;
}

export interface KeyFeedOptions extends FeedOptions {
  /** Bytes of key log text taken from one object; the record that would go past them and the rest of the object are skipped, and counted. @default 32 MiB */
  readonly maxBytesPerObject?: number;
  /** Bounds of the memory of lines already passed on. */
  readonly seen?: SeenKeyLinesOptions;
}

/**
 * 32 MiB of key log is about 190,000 lines: the secrets of 38,000 TLS 1.3 sessions in one
 * object. Every line read costs about a kilobyte of short-lived memory, so this also
 * bounds what one hostile object can make the process grow by (about 250 MB measured).
 */
const DEFAULT_MAX_BYTES_PER_OBJECT = 32 * 1024 * 1024;

/** Valid lines handed on at a time. */
const BATCH_LINES = 4096;

export class KeyFeed {
  readonly stats: KeyFeedStats = { objects: 0, damaged: 0, lines: 0, duplicates: 0, invalid: 0, bytesSkipped: 0, objectsCut: 0 };
  private readonly feed: ObjectFeed;
  private readonly seen: SeenKeyLines;
  private readonly maxBytesPerObject: number;
  /** Told the valid lines of every TLS_KEYS record, a batch of at most 4096 at a time. */
  onKeyLog?: (batch: KeyLogBatch) => void;
  /** Told once per object that had invalid lines or was cut short. */
  onDropped?: (report: KeyObjectReport) => void;

  /** `options` as for traffic: a shard reads the keys of its own gateways only. */
  constructor(private readonly store: ObjectStore, hours?: HourWindow, options: KeyFeedOptions = {}) {
    this.feed = new ObjectFeed(store, ObjectKind.Keys, hours, options);
    this.seen = new SeenKeyLines(options.seen);
    this.maxBytesPerObject = options.maxBytesPerObject ?? DEFAULT_MAX_BYTES_PER_OBJECT;
  }

  /** Lines remembered as passed on now (bounded; for tests and budgets). */
  get rememberedLines(): number {
    return this.seen.size;
  }

  /** Lines forgotten to keep the memory of lines passed on within its bounds (age, count, bytes). */
  get forgottenLines(): number {
    return this.seen.forgotten;
  }

  /** Reads the key objects that appeared since the last call; returns how many new lines they gave. */
  async poll(passGaps: boolean, onDamage: (damage: ObjectDamage) => void, onGap: (gap: SeqGap) => void): Promise<number> {
    const before = this.stats.lines;
    for (const object of await this.feed.poll(passGaps, onGap)) {
      const reader = new ObjectLines(object.key, this.maxBytesPerObject);
      const result = await readObject(this.store, object.key, ObjectKind.Keys, {
        onRecords: (records) => {
          for (const record of records) {
            if (record.type === RecordType.TlsKeys) this.take(reader, record.lines);
          }
        },
        onDamage,
        // Past its allowance an object is not read further: no inflating, no decoding.
        stop: () => reader.cut,
      });
      this.stats.objects++;
      if (result.damaged) this.stats.damaged++;
      this.finish(reader);
    }
    return this.stats.lines - before;
  }

  /**
   * Hands a record's valid lines on in batches of BATCH_LINES: what a batch holds
   * dies young (cheap for the collector) instead of living as long as an 8 MiB record.
   */
  private take(reader: ObjectLines, text: string): void {
    if (!reader.admit(text.length)) return;
    let fresh: string[] = [];
    let entries: KeyLogEntry[] = [];
    let valid = 0;
    const flush = (): void => {
      this.stats.lines += fresh.length;
      this.onKeyLog?.({ fresh: fresh.length === 0 ? '' : `${fresh.join('\n')}\n`, entries, objectKey: reader.objectKey });
      fresh = [];
      entries = [];
      valid = 0;
    };
    reader.scan(text, (entry) => {
      valid++;
      if (isSessionEntry(entry)) entries.push(entry);
      const line = formatKeyLogLine(entry);
      if (this.seen.firstSighting(line)) fresh.push(line);
      else this.stats.duplicates++;
      if (valid === BATCH_LINES) flush();
    });
    if (valid > 0) flush();
  }

  private finish(reader: ObjectLines): void {
    const { tally } = reader;
    this.stats.invalid += tally.invalid;
    this.stats.bytesSkipped += reader.bytesSkipped;
    if (reader.cut) this.stats.objectsCut++;
    if (tally.invalid === 0 && !reader.cut) return;
    this.onDropped?.({
      objectKey: reader.objectKey, valid: tally.valid, invalid: tally.invalid, firstInvalidLine: tally.firstInvalidLine,
      problems: tally.problems(), bytesSkipped: reader.bytesSkipped, cut: reader.cut,
    });
  }
}

/** The key log of one object across its records: line numbers run on, and its byte allowance. */
class ObjectLines {
  readonly tally = new KeyLogTally();
  bytesSkipped = 0;
  cut = false;
  private bytesTaken = 0;
  private nextLine = 1;

  constructor(readonly objectKey: string, private readonly maxBytes: number) {}

  /** Whether a record of `bytes` fits the object's allowance; one that does not is skipped whole and cuts the object there. */
  admit(bytes: number): boolean {
    if (this.cut || this.bytesTaken + bytes > this.maxBytes) {
      this.bytesSkipped += bytes;
      this.cut = true;
      return false;
    }
    this.bytesTaken += bytes;
    return true;
  }

  scan(text: string, visit: (entry: AnyKeyLogEntry) => void): void {
    this.nextLine += scanKeyLog(text, this.tally, visit, this.nextLine);
  }
}
