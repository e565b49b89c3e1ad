/**
 * versitygw (github.com/versity/versitygw), an S3 gateway over a local folder,
 * in a child process on a free loopback port. Unlike s3rver it verifies every
 * request's SigV4 signature (SignatureDoesNotMatch, 403), so a wrong secret is
 * refused as S3 refuses it. The root key pair is random per start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChildServer } from './child-server.js';
import { storePeerBinary } from './store-peers.js';

export interface Versitygw {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startVersitygw(buckets: readonly string[]): Promise<Versitygw> {
  const binary = storePeerBinary('versitygw');
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'cloudtap-versitygw-'));
  // The posix backend serves each folder of its root as a bucket.
  for (const bucket of buckets) await mkdir(join(root, bucket));
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64url');
  const server = await startChildServer({
    name: 'versitygw',
    command: binary,
    args: ['--port', `127.0.0.1:${port}`, '--region', 'us-east-1', '--quiet', 'posix', root],
    // Given by environment, not arguments: a secret stays out of `ps`.
    env: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    port,
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    stop: async () => {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
