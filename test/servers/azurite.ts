/**
 * Azurite's blob service in a child process on a free loopback port, in
 * memory. It checks shared-key signatures, so a wrong key is refused as Azure would.
 */
import { join } from 'node:path';
import { nodeBinary, projectRoot } from '../support/paths.js';
import { freePort, startChildServer } from './child-server.js';

/** Azurite's well-known development account (public, documented by Microsoft: not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  readonly port: number;
  /** The blob service URL, `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** `host`: the address to listen on (the cluster tests use the node address, which pods reach). */
export async function startAzurite(host = '127.0.0.1'): Promise<Azurite> {
  const port = await freePort();
  const server = await startChildServer({
    name: 'azurite-blob',
    command: nodeBinary,
    args: [
      join(projectRoot, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js'),
      '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry', '--silent',
      '--blobHost', host, '--blobPort', String(port),
    ],
    port,
    host,
  });
  return { port, endpoint: `http://${host}:${port}/${AZURITE_ACCOUNT}`, stop: () => server.stop() };
}
