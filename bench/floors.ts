/**
 * Runs a floor (floor-child.ts) over a bucket folder as a pinned contender,
 * with the heap flags the launcher gives node, and removes what it wrote.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FloorChildResult, FloorMode } from './floor-child.js';
import { cloudtapNodeFlags, pinnedRun } from './pairs.js';

const floorChild = fileURLToPath(new URL('./floor-child.js', import.meta.url));

export interface FloorRun {
  /** Wall seconds of the whole process, start-up included (as the stitch row is timed). */
  readonly wallSeconds: number;
  /** What the child printed: its own seconds leave start-up out. */
  readonly result: FloorChildResult;
}

export function runFloor(mode: FloorMode, bucket: string, output: string): FloorRun {
  const { seconds, stdout } = pinnedRun(process.execPath, [...cloudtapNodeFlags([]), floorChild, mode, bucket, output]);
  rmSync(output, { force: true });
  return { wallSeconds: seconds, result: JSON.parse(stdout.trim().split('\n').at(-1)!) as FloorChildResult };
}
