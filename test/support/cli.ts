/** Runs the `cloudtap` CLI the way a user does: bin/cloudtap on the built code. */
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
