/**
 * The stitcher against a limit and a peer on the same bytes, whole processes
 * on one core: `cloudtap stitch --once` of the bench bucket to a pcap, `cp` of
 * that pcap (the limit: the least any tool that writes those bytes pays) and
 * Wireshark's `editcap -F pcap` copying it (the peer: a packet tool that parses
 * every record). Rounds stitch, cp, editcap, floor; ratios of wall times per
 * round. Goals: stitch <= 1.5x cp and <= 0.5x editcap. The floor (floor-child.ts:
 * Node reading, CRC-checking and writing the same object bytes, nothing else)
 * says how much of the distance to `cp` is the stitcher's own work.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudtapNodeFlags, median, pinnedRun, rounds, type TimedRun } from './pairs.js';
import { formatProfile, summariseProfileDir } from './profile-summary.js';

const cli = fileURLToPath(new URL('../stitcher/cli/main.js', import.meta.url));
const floorChild = fileURLToPath(new URL('./floor-child.js', import.meta.url));

export interface PeerBench {
  readonly pcapBytes: number;
  readonly stitchSeconds: number;
  readonly cpSeconds: number;
  readonly editcapSeconds: number;
  readonly floorSeconds: number;
  /** Median over rounds of stitch/cp, stitch/editcap, stitch/floor and floor/cp. */
  readonly overCp: number;
  readonly overEditcap: number;
  readonly overFloor: number;
  readonly floorOverCp: number;
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
  const clean = (): void => {
    for (const path of [pcap, copy, edited, floorCopy]) rmSync(path, { force: true });
  };
  clean();
  timed(bucket, pcap); // warms the page cache with the objects
  const stitch: number[] = [];
  const cp: number[] = [];
  const editcap: number[] = [];
  const floor: number[] = [];
  let pcapBytes = 0;
  for (let round = 0; round < rounds(); round++) {
    clean();
    stitch.push(timed(bucket, pcap).seconds);
    pcapBytes = statSync(pcap).size;
    cp.push(pinnedRun('cp', [pcap, copy]).seconds);
    editcap.push(pinnedRun('editcap', ['-F', 'pcap', pcap, edited]).seconds);
    rmSync(copy, { force: true });
    rmSync(edited, { force: true });
    floor.push(pinnedRun(process.execPath, [...cloudtapNodeFlags([]), floorChild, bucket, floorCopy]).seconds);
    rmSync(floorCopy, { force: true });
  }
  const overCp = median(stitch.map((s, i) => s / cp[i]!));
  const overEditcap = median(stitch.map((s, i) => s / editcap[i]!));
  const overFloor = median(stitch.map((s, i) => s / floor[i]!));
  const floorOverCp = median(floor.map((f, i) => f / cp[i]!));
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
    pcapBytes, stitchSeconds: median(stitch), cpSeconds: median(cp), editcapSeconds: median(editcap), floorSeconds: median(floor),
    overCp, overEditcap, overFloor, floorOverCp, ...(profile === undefined ? {} : { profile }),
  };
}
