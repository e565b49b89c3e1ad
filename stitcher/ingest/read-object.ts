/**
 * Reads one CTAP object from a store and hands its decoded blocks on, reporting
 * damage instead of throwing: a damaged or unreadable object never stops the run.
 */
import type { ObjectDamage } from '../format/damage.js';
import { isDirectSource, readCtapObject, type DirectSource, type ObjectSummary } from '../format/reader.js';
import type { CtapRecord, ObjectHeader, ObjectKind } from '../format/records.js';
import { allocateSummable } from '../packet/wasm-sum.js';
import type { ObjectStore } from '../store/store.js';

export interface ObjectReadHandlers {
  /** The object's header, before its first records. */
  onHeader?(header: ObjectHeader): void;
  /** May return a promise to hold the reader (backpressure from the exporters). */
  onRecords(records: readonly CtapRecord[]): void | Promise<void>;
  onDamage(damage: ObjectDamage): void;
  /**
   * Let the reader rewrite its memory once `onRecords` is done (returned, or
   * its promise settled): no allocation per block from a local folder, but
   * nothing may hold a view of the records' buffers (payloads, flow ids) after
   * that, packets queued in an output included. Right when every output copies
   * what it is given at once (pcap and pcapng files); wrong for outputs that
   * queue views (the UDP tunnels).
   * @default false
   */
  readonly reuseBuffers?: boolean;
  /** Asked after each block's records: true ends the read there, the rest of the object unread. */
  readonly stop?: () => boolean;
}

export interface ObjectReadResult {
  readonly summary: ObjectSummary | undefined;
  readonly bytesRead: number;
  readonly damaged: boolean;
}

export async function readObject(store: ObjectStore, key: string, kind: ObjectKind, handlers: ObjectReadHandlers): Promise<ObjectReadResult> {
  let bytesRead = 0;
  let summary: ObjectSummary | undefined;
  let damaged = false;
  let stream: AsyncIterable<Buffer>;
  try {
    stream = await store.read(key);
  } catch (error) {
    handlers.onDamage({ object: key, offset: 0, problem: `cannot be read: ${(error as Error).message}` });
    return { summary, bytesRead, damaged: true };
  }
  const counted = countBytes(stream, (n) => (bytesRead += n));
  // A reused window is made a handful of times per run: it may as well be memory the
  // SIMD checksum sums payloads in place from. A window per refill would be one
  // WebAssembly memory (and its address space reservation) each: plain buffers then.
  const allocateWindow = handlers.reuseBuffers === true ? allocateSummable : undefined;
  for await (const event of readCtapObject(key, counted, { expectedKind: kind, reuseBuffers: handlers.reuseBuffers, allocateWindow })) {
    if (event.kind === 'header') {
      handlers.onHeader?.(event.header);
    } else if (event.kind === 'records') {
      const wait = handlers.onRecords(event.records);
      if (wait !== undefined) await wait;
      if (handlers.stop?.() === true) break;
    } else if (event.kind === 'damage') {
      damaged = true;
      handlers.onDamage(event.damage);
    } else if (event.kind === 'end') {
      summary = event.summary;
    }
  }
  return { summary, bytesRead, damaged: damaged || summary?.damaged === true };
}

/** The source with every byte it gives counted; a source that reads into the caller's memory keeps that ability. */
function countBytes(source: AsyncIterable<Buffer>, add: (n: number) => void): AsyncIterable<Buffer> {
  const counted = countChunks(source, add);
  if (!isDirectSource(source)) return counted;
  const direct: DirectSource & AsyncIterable<Buffer> = {
    readInto: async (target, offset, length) => {
      const got = await source.readInto(target, offset, length);
      add(got);
      return got;
    },
    destroy: () => source.destroy(),
    [Symbol.asyncIterator]: () => counted[Symbol.asyncIterator](),
  };
  return direct;
}

async function* countChunks(source: AsyncIterable<Buffer>, add: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    add(chunk.length);
    yield chunk;
  }
}
