/**
 * Flow stages that hold bytes or keep per-flow state between flow reassembly
 * and the packet synthesisers (the key gate, the TLS decryptor), as a
 * checkpoint sees them. A checkpoint asks each stage where every open flow
 * stands; a resume hands the answer back before the flow is announced again,
 * and flow reassembly hands the flow's bytes again from the lowest offset any
 * stage still held. Stages and synthesisers drop what they had already passed on.
 */

/** Per direction (client-to-server, server-to-client): stream offsets. */
export type StreamOffsets = readonly [number, number];

/** JSON a stage keeps per flow in a checkpoint: never a secret. */
export type StageJson = string | number | boolean | null | readonly StageJson[] | { readonly [key: string]: StageJson };

export interface StagePoint {
  /** Per direction, the lowest offset the stage has not passed on for good; absent: it holds nothing. */
  readonly heldFrom?: StreamOffsets;
  /** What the stage goes on from after a resume; absent: it starts the flow afresh (from offset 0). */
  readonly state?: StageJson;
}

export interface ResumableStage {
  /** Whether the stage still holds something of the flow (asked when the flow closes: it may hold it past the close). */
  holds(gateway: string, key: string): boolean;
  /** Where the flow stands in the stage, for a checkpoint taken between two objects. */
  resumePoint(gateway: string, key: string): StagePoint;
  /** The flow `key` of `gateway`, when it is opened next, goes on from `state` (from resumePoint). */
  expectResume(gateway: string, key: string, state: StageJson | undefined): void;
}

/** An offset past any stream: a stage that holds nothing of a direction. */
export const NOTHING_HELD = Number.MAX_SAFE_INTEGER;

/** The lower of two offsets per direction. */
export function lowerOffsets(a: StreamOffsets, b: StreamOffsets): StreamOffsets {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
}
