/** Runs the `cloudtap` CLI the way a user does: bin/cloudtap on the built code. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './paths.js';
import { run, runOk, type RunOptions, type RunResult } from './run.js';

export const cloudtapBin = join(projectRoot, 'bin', 'cloudtap');

export function cloudtap(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return run(cloudtapBin, args, options);
}

export function cloudtapOk(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return runOk(cloudtapBin, args, options);
}

export interface RunningCloudtap {
  readonly child: ChildProcess;
  /** What it has printed so far. */
  readonly printed: { stdout: string; stderr: string };
  /** Its exit code, once it is gone. */
  readonly exited: Promise<number | null>;
}

/** Starts `cloudtap` in the background (a polling stitcher), collecting what it prints. */
export function startCloudtap(args: readonly string[]): RunningCloudtap {
  const child = spawn(cloudtapBin, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const printed = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (printed.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (printed.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, printed, exited };
}
