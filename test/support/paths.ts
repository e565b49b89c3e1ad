/** Where things are, wherever the compiled tests run from (dist/ or a private outDir). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'stitcher'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no cloudtap project above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The repository's top folder. */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
/** The compiled tree these tests run from (the folder that holds stitcher/, test/, ...). */
export const compiledRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Node.js cloudtap runs on here, as bin/node-runtime picks it (the bundled Node 24 on Linux x64 only), else this one. */
export const nodeBinary = projectNode();

function projectNode(): string {
  try {
    return execFileSync(join(projectRoot, 'bin', 'node-runtime'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return process.execPath;
  }
}
