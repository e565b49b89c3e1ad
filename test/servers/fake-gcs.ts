/**
 * fake-gcs-server (github.com/fsouza/fake-gcs-server), the community's GCS
 * emulator, in a child process on a free loopback port, in memory, with the
 * given buckets. Beside the in-repo GCS test server, it is a GCS peer we did not
 * write. It does not check credentials at all: auth tests stay on the in-repo server.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChildServer } from './child-server.js';
import { storePeerBinary } from './store-peers.js';

export interface FakeGcs {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startFakeGcs(buckets: readonly string[]): Promise<FakeGcs> {
  const binary = storePeerBinary('fake-gcs-server');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // Folders under -data become the initial buckets.
  const data = await mkdtemp(join(tmpdir(), 'cloudtap-fake-gcs-'));
  for (const bucket of buckets) await mkdir(join(data, bucket));
  const server = await startChildServer({
    name: 'fake-gcs-server',
    command: binary,
    args: ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-data', data,
      '-external-url', endpoint, '-public-host', `127.0.0.1:${port}`, '-log-level', 'warn'],
    port,
  });
  return {
    endpoint,
    stop: async () => {
      await server.stop();
      await rm(data, { recursive: true, force: true });
    },
  };
}
