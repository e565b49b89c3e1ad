/** Where things are, wherever the compiled tests run from (dist/ or a private outDir). */
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
/** The Node.js the project runs on (Node 24 from node_modules), else this one. */
export const nodeBinary = existsSync(join(projectRoot, 'node_modules', '.bin', 'node'))
  ? join(projectRoot, 'node_modules', '.bin', 'node')
  : process.execPath;
