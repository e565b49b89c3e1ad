/**
 * Reads the TLS key objects (kind 2) of every gateway and collects their NSS
 * key log lines, without duplicates. The lines are secrets: they go to the
 * outputs that embed them (pcapng Decryption Secrets Blocks) and nowhere else.
 */
import { ObjectKind, RecordType } from '../format/records.js';
import type { ObjectStore } from '../store/store.js';
import { ObjectFeed, type FeedOptions, type HourWindow, type SeqGap } from './object-feed.js';
import { readObject } from './read-object.js';
import type { ObjectDamage } from '../format/damage.js';

export interface KeyFeedStats {
  objects: number;
  damaged: number;
  lines: number;
}

export class KeyFeed {
  readonly stats: KeyFeedStats = { objects: 0, damaged: 0, lines: 0 };
  private readonly feed: ObjectFeed;
  private readonly seen = new Set<string>();
  /**
   * Told every TLS_KEYS record: `fresh` its lines not seen before (newline-terminated,
   * '' when none), `lines` all of them, and its object's key.
   */
  onKeyLog?: (fresh: string, lines: string, objectKey: string) => void;

  /** `options` as for traffic: a shard reads the keys of its own gateways only. */
  constructor(private readonly store: ObjectStore, hours?: HourWindow, options?: FeedOptions) {
    this.feed = new ObjectFeed(store, ObjectKind.Keys, hours, options);
  }

  /** New key log lines since the last call (a newline-terminated block), or '' when none. */
  async poll(passGaps: boolean, onDamage: (damage: ObjectDamage) => void, onGap: (gap: SeqGap) => void): Promise<string> {
    const fresh: string[] = [];
    for (const object of await this.feed.poll(passGaps, onGap)) {
      const result = await readObject(this.store, object.key, ObjectKind.Keys, {
        onRecords: (records) => {
          for (const record of records) {
            if (record.type !== RecordType.TlsKeys) continue;
            const before = fresh.length;
            this.collect(record.lines, fresh);
            const added = fresh.slice(before);
            this.onKeyLog?.(added.length === 0 ? '' : `${added.join('\n')}\n`, record.lines, object.key);
          }
        },
        onDamage,
      });
      this.stats.objects++;
      if (result.damaged) this.stats.damaged++;
    }
    this.stats.lines += fresh.length;
    return fresh.length === 0 ? '' : fresh.join('\n') + '\n';
  }

  private collect(lines: string, into: string[]): void {
    for (const raw of lines.split(/\r\n|\r|\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || this.seen.has(line)) continue;
      this.seen.add(line);
      into.push(line);
    }
  }
}
