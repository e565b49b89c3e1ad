/**
 * A throw-away self-signed RSA certificate for the simulated servers, made
 * at run time with the openssl command line (RSA, so that the RSA key
 * exchange suites work too). It never leaves the process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

/** @throws when openssl is missing or fails, naming the command. */
export async function makeTestCertificate(commonName = 'cloudtap-generator.test'): Promise<TestCertificate> {
  const folder = await mkdtemp(join(tmpdir(), 'cloudtap-cert-'));
  const keyPath = join(folder, 'key.pem');
  const certPath = join(folder, 'cert.pem');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName},DNS:*.test`,
      '-keyout', keyPath, '-out', certPath,
    ]);
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch (error) {
    throw new Error(`while making the generator's test certificate with openssl req: ${(error as Error).message}`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
