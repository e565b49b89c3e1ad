/**
 * s3rver in a child process on a free loopback port, with its buckets in a
 * temporary folder, started through s3rver-main.js (which fixes its listing
 * by delimiter). Its gaps, which tests must not rely on: it checks the access
 * key id but not a SigV4 signature (a wrong secret passes), ignores
 * If-None-Match and suffix ranges (`bytes=-N`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinary } from '../support/paths.js';
import { freePort, startChildServer } from './child-server.js';

/** s3rver's built-in key pair (public in its sources: not a secret). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET = 'S3RVER';

export interface S3rver {
  readonly port: number;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts s3rver with the given buckets created. */
export async function startS3rver(buckets: readonly string[]): Promise<S3rver> {
  const port = await freePort();
  const directory = await mkdtemp(join(tmpdir(), 'cloudtap-s3rver-'));
  const server = await startChildServer({
    name: 's3rver',
    command: nodeBinary,
    args: [fileURLToPath(new URL('./s3rver-main.js', import.meta.url)), directory, String(port), ...buckets],
    env: { NODE_OPTIONS: '--openssl-legacy-provider' },
    port,
  });
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
