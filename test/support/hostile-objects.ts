/**
 * Crafted CTAP objects that a hostile or broken gateway could write: the cases of
 * the hostile-input suite (issue 13). Each builder returns the whole object and the
 * key it goes under, so a test drops it into a bucket beside good traffic. Builders
 * keep what they hold small (repeated text deflates to almost nothing) so that the
 * stitcher, not the test, is what gets measured.
 */
import { objectKey } from '../../stitcher/format/object-key.js';
import { BlockCodec, ObjectKind, RecordType, type TlsKeysRecord } from '../../stitcher/format/records.js';
import { CtapObjectWriter } from '../../stitcher/format/writer.js';
import { MAX_RAW_BYTES } from '../../stitcher/format/layout.js';

export interface CraftedObject {
  /** Where it goes in the bucket (under the store's root). */
  readonly key: string;
  readonly bytes: Buffer;
  /** What it holds, for the test's assertions. */
  readonly lines: number;
}

export interface CraftedPlace {
  /** The gateway it claims to come from: one of its own, so its <seq> starts at 0. */
  readonly gateway: string;
  /** When it was started (ns since the epoch): the hour folder it lands in. */
  readonly createdNs: bigint;
  /** @default 0n */
  readonly seq?: bigint;
  /** Prefix of key objects. @default '' */
  readonly keyRoot?: string;
}

const ZERO_FLOW = Buffer.alloc(16);
/** Record header (5) + TLS_KEYS fixed body (24): what a block holds besides the lines. */
const TLS_KEYS_OVERHEAD = 29;

/**
 * One TLS_KEYS record of `lines` malformed lines (`x`, two bytes each with the
 * newline): a million deflate to about 2 KB, four million fill the largest block.
 */
export function malformedKeyLines(place: CraftedPlace, lines: number): CraftedObject {
  const text = 'x\n'.repeat(lines);
  if (text.length + TLS_KEYS_OVERHEAD > MAX_RAW_BYTES) throw new RangeError(`${lines} lines do not fit one ${MAX_RAW_BYTES}-byte block`);
  const writer = new CtapObjectWriter(header(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  writer.add(keysRecord(place.createdNs, text));
  return { key: keyOf(place), bytes: writer.finish(), lines };
}

/**
 * A key flood: `lines` valid, distinct TLS 1.2 lines (`CLIENT_RANDOM`, each its own
 * client random, a 48-byte master secret), in TLS_KEYS records that fill the
 * largest blocks. Client randoms count up from `firstIndex`, so the object
 * deflates well and several floods can be told apart.
 */
export function keyFlood(place: CraftedPlace, lines: number, firstIndex = 0): CraftedObject {
  const writer = new CtapObjectWriter(header(place), { codec: BlockCodec.Deflate, blockBytes: MAX_RAW_BYTES });
  const secret = 'ab'.repeat(48);
  const lineBytes = floodLine(0, secret).length;
  const perRecord = Math.floor((MAX_RAW_BYTES - TLS_KEYS_OVERHEAD) / lineBytes);
  for (let first = firstIndex; first < firstIndex + lines; first += perRecord) {
    const parts: string[] = [];
    for (let i = first; i < Math.min(firstIndex + lines, first + perRecord); i++) parts.push(floodLine(i, secret));
    writer.add(keysRecord(place.createdNs, parts.join('')));
  }
  return { key: keyOf(place), bytes: writer.finish(), lines };
}

/** The flood's line number `index` (its client random is the index in hex, zero-padded). */
export function floodLine(index: number, secret = 'ab'.repeat(48)): string {
  return `CLIENT_RANDOM ${index.toString(16).padStart(64, '0')} ${secret}\n`;
}

function keysRecord(tsNs: bigint, lines: string): TlsKeysRecord {
  return { type: RecordType.TlsKeys, tsNs, flowId: ZERO_FLOW, lines };
}

function header(place: CraftedPlace): { kind: ObjectKind; gateway: string; seq: bigint; createdNs: bigint } {
  return { kind: ObjectKind.Keys, gateway: place.gateway, seq: place.seq ?? 0n, createdNs: place.createdNs };
}

function keyOf(place: CraftedPlace): string {
  return objectKey(place.keyRoot ?? '', ObjectKind.Keys, place.gateway, place.seq ?? 0n, place.createdNs);
}
