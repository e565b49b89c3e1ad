/** Changes to captured flow events: other splits, flipped bits, holes. */
import type { Direction } from '../../../stitcher/format/records.js';
import type { FlowDataEvent, FlowEvent } from '../../../stitcher/flow/events.js';

/** Splits the data event of `dir` that holds stream offset `at` (strictly inside it) in two. */
export function splitAt(events: readonly FlowEvent[], dir: Direction, at: bigint): FlowEvent[] {
  return events.flatMap<FlowEvent>((event) => {
    if (event.kind !== 'data' || event.dir !== dir) return [event];
    const cut = Number(at - event.offset);
    if (cut <= 0 || cut >= event.payload.length) return [event];
    return [
      { ...event, payload: event.payload.subarray(0, cut) },
      { ...event, offset: at, payload: event.payload.subarray(cut) },
    ];
  });
}

/** Every data event cut into pieces of at most `size` bytes. */
export function rechunk(events: readonly FlowEvent[], size: number): FlowEvent[] {
  return events.flatMap<FlowEvent>((event) => {
    if (event.kind !== 'data') return [event];
    const pieces: FlowDataEvent[] = [];
    for (let i = 0; i < event.payload.length; i += size) {
      pieces.push({ ...event, offset: event.offset + BigInt(i), payload: event.payload.subarray(i, i + size) });
    }
    return pieces;
  });
}

/** A copy with one bit flipped at stream offset `at` of `dir`. */
export function flipBit(events: readonly FlowEvent[], dir: Direction, at: bigint): FlowEvent[] {
  return events.map((event) => {
    if (event.kind !== 'data' || event.dir !== dir) return event;
    const index = Number(at - event.offset);
    if (index < 0 || index >= event.payload.length) return event;
    const payload = Buffer.from(event.payload);
    payload[index] ^= 0x10;
    return { ...event, payload };
  });
}

/** The data event of `dir` that holds stream offset `at` replaced by a hole of its length. */
export function holeAt(events: readonly FlowEvent[], dir: Direction, at: bigint): FlowEvent[] {
  return events.map((event) => {
    if (event.kind !== 'data' || event.dir !== dir) return event;
    if (at < event.offset || at >= event.offset + BigInt(event.payload.length)) return event;
    return { kind: 'hole', dir, tsNs: event.tsNs, offset: event.offset, length: BigInt(event.payload.length), cause: 'gap' };
  });
}

/** The length of a direction's stream. */
export function streamLength(events: readonly FlowEvent[], dir: Direction): bigint {
  let end = 0n;
  for (const event of events) {
    if (event.kind === 'data' && event.dir === dir) end = event.offset + BigInt(event.payload.length);
  }
  return end;
}

/** Events shifted in time (to make two captures interleave or to move time on). */
export function shiftTime(events: readonly FlowEvent[], byNs: bigint): FlowEvent[] {
  return events.map((event) => ({ ...event, tsNs: event.tsNs + byNs }));
}
