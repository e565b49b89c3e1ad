/**
 * Where bin/install-store-peers put the store peers built from their Go modules
 * (fake-gcs-server, versitygw): `~/.cache/cloudtap/<name>/<version>/<binary>`,
 * versions pinned in bin/store-peers.txt. `make test` and .ci/run build them first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';

export type StorePeer = 'fake-gcs-server' | 'versitygw';

/** The peer's binary. @throws Error saying how to build it when it is missing */
export function storePeerBinary(name: StorePeer): string {
  const line = readFileSync(join(projectRoot, 'bin', 'store-peers.txt'), 'utf8')
    .split('\n')
    .map((text) => text.trim().split(/\s+/))
    .find(([first]) => first === name);
  if (line === undefined || line.length < 4) throw new Error(`bin/store-peers.txt has no line for ${name}`);
  const [, version, , binary] = line as [string, string, string, string];
  const cache = process.env.CLOUDTAP_CACHE ?? join(homedir(), '.cache', 'cloudtap');
  const path = join(cache, name, version, binary);
  if (!existsSync(path)) throw new Error(`${name} ${version} is not built (${path}): run bin/install-store-peers (make test does)`);
  return path;
}
