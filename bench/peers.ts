/**
 * The stitcher against a limit and a peer on the same bytes, whole processes
 * on one core: `cloudtap stitch --once` of the bench bucket to a pcap, `cp` of
 * that pcap (the limit: the least any tool that writes those bytes pays) and
 * Wireshark's `editcap -F pcap` copying it (the peer: a packet tool that parses
 * every record). Rounds stitch, cp, editcap, the two floors; ratios of wall
 * times per round. Goals: stitch <= 1.5x cp and <= 0.5x editcap. The floors (floor-child.ts:
 * Node reading, CRC-checking and writing the same object bytes, nothing else; and
 * the same with the bytes written as full-sized TCP frames by the stitcher's own
 * frame path) say how much of the distance to `cp` is the stitcher's own work,
 * and how far below the goals the least a Node stitcher pays already lies.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFloor } from './floors.js';
import { cloudtapNodeFlags, median, pinnedRun, rounds, type TimedRun } from './pairs.js';
import { formatProfile, summariseProfileDir } from './profile-summary.js';

const cli = fileURLToPath(new URL('../stitcher/cli/main.js', import.meta.url));

export interface PeerBench {
  readonly pcapBytes: number;
  readonly stitchSeconds: number;
  readonly cpSeconds: number;
  readonly editcapSeconds: number;
  readonly floorSeconds: number;
  readonly framesFloorSeconds: number;
  /** Medians over rounds of stitch/cp, stitch/editcap, stitch/each floor. */
  readonly overCp: number;
  readonly overEditcap: number;
  readonly overFloor: number;
  readonly overFramesFloor: number;
  /** Medians over rounds of each floor, and of cp, against the limit and the peer: what the goals leave. */
  readonly floorOverCp: number;
  readonly floorOverEditcap: number;
  readonly framesFloorOverCp: number;
  readonly framesFloorOverEditcap: number;
  readonly cpOverEditcap: number;
  /** A profile summary of one more stitch when a goal is missed. */
  readonly profile?: string;
}

export const STITCH_GOALS = { overCp: 1.5, overEditcap: 0.5 } as const;

/** node's arguments for `cloudtap stitch --once` of `bucket` to a pcap, with the launcher's heap flags and `extra` node flags. */
function stitchArgs(bucket: string, output: string, extra: readonly string[] = []): string[] {
  const args = ['stitch', '--source', `file://${bucket}`, '--output', `pcap://${output}`, '--once'];
  return [...cloudtapNodeFlags(args), ...extra, cli, ...args];
}

function timed(bucket: string, output: string): TimedRun {
  return pinnedRun(process.execPath, stitchArgs(bucket, output));
}

export function benchPeers(bucket: string, workDir: string): PeerBench {
  const pcap = join(workDir, 'stitched.pcap');
  const copy = join(workDir, 'copied.pcap');
  const edited = join(workDir, 'editcap.pcap');
  const floorCopy = join(workDir, 'floor.bin');
  const floorFrames = join(workDir, 'floor-frames.pcap');
  const clean = (): void => {
    for (const path of [pcap, copy, edited, floorCopy, floorFrames]) rmSync(path, { force: true });
  };
  clean();
  timed(bucket, pcap); // warms the page cache with the objects
  const stitch: number[] = [];
  const cp: number[] = [];
  const editcap: number[] = [];
  const floor: number[] = [];
  const framesFloor: number[] = [];
  let pcapBytes = 0;
  for (let round = 0; round < rounds(); round++) {
    clean();
    stitch.push(timed(bucket, pcap).seconds);
    pcapBytes = statSync(pcap).size;
    // Each contender finds only its input: with cp's fresh gigabyte copy still in the page cache,
    // editcap took twice as long (its system time three times), synced or not.
    cp.push(pinnedRun('cp', [pcap, copy]).seconds);
    rmSync(copy, { force: true });
    editcap.push(pinnedRun('editcap', ['-F', 'pcap', pcap, edited]).seconds);
    rmSync(edited, { force: true });
    rmSync(pcap, { force: true }); // the floors read the objects, not the stitched pcap
    floor.push(runFloor('copy', bucket, floorCopy).wallSeconds);
    framesFloor.push(runFloor('frames', bucket, floorFrames).wallSeconds);
  }
  const ratio = (a: readonly number[], b: readonly number[]): number => median(a.map((value, i) => value / b[i]!));
  const overCp = ratio(stitch, cp);
  const overEditcap = ratio(stitch, editcap);
  let profile: string | undefined;
  if (overCp > STITCH_GOALS.overCp || overEditcap > STITCH_GOALS.overEditcap) {
    const dir = mkdtempSync(join(workDir, 'profile-'));
    clean();
    pinnedRun(process.execPath, stitchArgs(bucket, pcap, ['--cpu-prof', `--cpu-prof-dir=${dir}`]));
    profile = formatProfile('cloudtap stitch --once -> pcap', summariseProfileDir(dir));
    rmSync(dir, { recursive: true, force: true });
  }
  clean();
  return {
    pcapBytes, stitchSeconds: median(stitch), cpSeconds: median(cp), editcapSeconds: median(editcap),
    floorSeconds: median(floor), framesFloorSeconds: median(framesFloor),
    overCp, overEditcap, overFloor: ratio(stitch, floor), overFramesFloor: ratio(stitch, framesFloor),
    floorOverCp: ratio(floor, cp), floorOverEditcap: ratio(floor, editcap),
    framesFloorOverCp: ratio(framesFloor, cp), framesFloorOverEditcap: ratio(framesFloor, editcap), cpOverEditcap: ratio(cp, editcap),
    ...(profile === undefined ? {} : { profile }),
  };
}
