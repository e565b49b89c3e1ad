/**
 * Reads the TLS key objects (kind 2) of every gateway and passes on their valid
 * NSS key log lines, each once. The lines are secrets: they go to the outputs that
 * embed them (key log files, pcapng Decryption Secrets Blocks) and to the key
 * store, nowhere else.
 *
 * A key object is someone else's writing and may be hostile: every line is
 * validated (see keylog.ts) and only the validated form is passed on; the text is
 * walked line by line, never split into an array; an object gives at most
 * `maxBytesPerObject` of key log text, the rest is skipped and counted; and what
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
  /** Bytes of key log text skipped because their object was over `maxBytesPerObject`. */
  bytesSkipped: number;
  /** Objects cut short by that limit. */
  objectsCut: number;
}

/** What one TLS_KEYS record gave: its new lines and every valid entry. */
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
  /** Key log bytes past the object's limit, not read. */
  readonly bytesSkipped: number;
}

export interface KeyFeedOptions extends FeedOptions {
  /** Bytes of key log text taken from one object; past them its records are skipped and counted. @default 64 MiB */
  readonly maxBytesPerObject?: number;
  /** Bounds of the memory of lines already passed on. */
  readonly seen?: SeenKeyLinesOptions;
}

/** 64 MiB of key log is about 400,000 lines: the secrets of 80,000 TLS 1.3 sessions in one object. */
const DEFAULT_MAX_BYTES_PER_OBJECT = 64 * 1024 * 1024;

export class KeyFeed {
  readonly stats: KeyFeedStats = { objects: 0, damaged: 0, lines: 0, duplicates: 0, invalid: 0, bytesSkipped: 0, objectsCut: 0 };
  private readonly feed: ObjectFeed;
  private readonly seen: SeenKeyLines;
  private readonly maxBytesPerObject: number;
  /** Told every TLS_KEYS record with at least one valid line. */
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
      });
      this.stats.objects++;
      if (result.damaged) this.stats.damaged++;
      this.finish(reader);
    }
    return this.stats.lines - before;
  }

  private take(reader: ObjectLines, text: string): void {
    if (!reader.admit(text.length)) return;
    const fresh: string[] = [];
    const entries: KeyLogEntry[] = [];
    let valid = 0;
    reader.scan(text, (entry) => {
      valid++;
      if (isSessionEntry(entry)) entries.push(entry);
      const line = formatKeyLogLine(entry);
      if (this.seen.firstSighting(line)) fresh.push(line);
      else this.stats.duplicates++;
    });
    this.stats.lines += fresh.length;
    if (valid > 0) {
      this.onKeyLog?.({ fresh: fresh.length === 0 ? '' : `${fresh.join('\n')}\n`, entries, objectKey: reader.objectKey });
    }
  }

  private finish(reader: ObjectLines): void {
    const { tally } = reader;
    this.stats.invalid += tally.invalid;
    this.stats.bytesSkipped += reader.bytesSkipped;
    if (reader.bytesSkipped > 0) this.stats.objectsCut++;
    if (tally.invalid === 0 && reader.bytesSkipped === 0) return;
    this.onDropped?.({
      objectKey: reader.objectKey, valid: tally.valid, invalid: tally.invalid, firstInvalidLine: tally.firstInvalidLine,
      problems: tally.problems(), bytesSkipped: reader.bytesSkipped,
    });
  }
}

/** The key log of one object across its records: line numbers run on, and its byte allowance. */
class ObjectLines {
  readonly tally = new KeyLogTally();
  bytesSkipped = 0;
  private bytesTaken = 0;
  private nextLine = 1;

  constructor(readonly objectKey: string, private readonly maxBytes: number) {}

  /** Whether a record of `bytes` fits the object's allowance; a record that does not is skipped whole. */
  admit(bytes: number): boolean {
    if (this.bytesSkipped > 0 || this.bytesTaken + bytes > this.maxBytes) {
      this.bytesSkipped += bytes;
      return false;
    }
    this.bytesTaken += bytes;
    return true;
  }

  scan(text: string, visit: (entry: AnyKeyLogEntry) => void): void {
    this.nextLine += scanKeyLog(text, this.tally, visit, this.nextLine);
  }
}
