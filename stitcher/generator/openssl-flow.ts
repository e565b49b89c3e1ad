/**
 * A flow run by another TLS stack: `openssl s_server -HTTP` serves one
 * planned object (a file holding the whole HTTP response) and closes the
 * connection; `openssl s_client` fetches it through the tapping relay and
 * writes its secrets with `-keylogfile`. OpenSSL frames records and sends
 * tickets and alerts its own way, which is the point.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { bodyChunks, contentTypeOf } from './bodies.js';
import type { BodySpec } from './bodies.js';
import type { TestCertificate } from './certificate.js';
import type { ClientOutcome } from './clients.js';
import { ResponseReader } from './http1-client.js';
import type { FlowPlan } from './plan.js';
import { isCbcSuite } from './suites.js';
import type { TlsSuite } from './suites.js';

/** The certificate as files and the folder s_server serves from, for one run. */
export interface OpensslWorkspace {
  readonly folder: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** s_server's current folder: request paths resolve under it. */
  readonly www: string;
  remove(): Promise<void>;
}

export async function createOpensslWorkspace(certificate: TestCertificate): Promise<OpensslWorkspace> {
  const folder = await mkdtemp(join(tmpdir(), 'cloudtap-openssl-'));
  const certPath = join(folder, 'cert.pem');
  const keyPath = join(folder, 'key.pem');
  const www = join(folder, 'www');
  await writeFile(certPath, certificate.cert);
  await writeFile(keyPath, certificate.key, { mode: 0o600 });
  await mkdir(www);
  return { folder, certPath, keyPath, www, remove: () => rm(folder, { recursive: true, force: true }) };
}

/** One openssl flow: its server is listening once `start` resolves. */
export class OpensslFlow {
  private server: ChildProcess | undefined;
  private client: ChildProcess | undefined;
  private serverExit: Promise<unknown> = Promise.resolve();
  private serverOutput = '';
  private readonly what: string;

  constructor(private readonly plan: FlowPlan, private readonly workspace: OpensslWorkspace, private readonly seed: string) {
    this.what = `openssl flow ${plan.index} (${plan.suite?.cipher ?? 'no suite'})`;
  }

  /** Writes the response file and starts s_server; resolves with its port. */
  async start(): Promise<number> {
    const spec = this.spec();
    await writeResponseFile(join(this.workspace.www, spec.path), this.seed, spec);
    const { certPath, keyPath, www } = this.workspace;
    const server = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', '-cert', certPath, '-key', keyPath,
      '-HTTP', '-http_server_binmode', ...suiteArgs(this.suite())], { cwd: www, stdio: ['ignore', 'pipe', 'pipe'] });
    this.server = server;
    this.serverExit = once(server, 'close').catch(() => undefined);
    server.stderr.on('data', (chunk: Buffer) => (this.serverOutput = (this.serverOutput + chunk.toString()).slice(-2000)));
    return new Promise<number>((resolve, reject) => {
      let seen = '';
      server.stdout.on('data', (chunk: Buffer) => {
        seen = (seen + chunk.toString()).slice(-4000);
        const port = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(seen)?.[1];
        if (port !== undefined) resolve(Number(port));
      });
      server.once('error', (error) => reject(new Error(`${this.what}: cannot run openssl s_server: ${error.message}`)));
      server.once('close', (code) => reject(new Error(`${this.what}: openssl s_server exited ${code} before listening: ${this.serverOutput.trim()}`)));
    });
  }

  /** Runs s_client against the relay, fetches the object, waits for both ends to exit. */
  async fetch(relayPort: number): Promise<ClientOutcome> {
    const plan = this.plan;
    const suite = this.suite();
    const spec = this.spec();
    const keylogPath = join(this.workspace.folder, `keys-${plan.index}.log`);
    const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${relayPort}`, '-servername', plan.serverName, '-quiet',
      '-keylogfile', keylogPath, ...suiteArgs(suite), ...(suite.encryptThenMac === false ? ['-no_etm'] : [])],
    { stdio: ['pipe', 'pipe', 'pipe'] });
    this.client = client;
    const exited = once(client, 'close');
    exited.catch(() => undefined); // a spawn error also fails the response below, which is what gets reported
    let clientOutput = '';
    client.stderr.on('data', (chunk: Buffer) => (clientOutput = (clientOutput + chunk.toString()).slice(-2000)));
    const reader = new ResponseReader(Duplex.from({ readable: client.stdout, writable: client.stdin }), this.what);
    const response = await reader.get(spec.path, plan.serverName, true).catch((error: Error) => {
      throw new Error(`${error.message}; s_client said: ${lastLine(clientOutput)}; s_server said: ${lastLine(this.serverOutput)}`);
    });
    if (response.status !== 200 || response.size !== spec.size) {
      throw new Error(`${this.what}: GET ${spec.path} answered ${response.status} with ${response.size} bytes, expected 200 with ${spec.size}`);
    }
    await Promise.all([exited, this.serverExit]);
    const keylog = await readFile(keylogPath, 'latin1').catch(() => '');
    await rm(keylogPath, { force: true });
    const tls = { version: suite.version, cipher: suite.cipher, ...(isCbcSuite(suite) ? { encryptThenMac: suite.encryptThenMac !== false } : {}) };
    return { objects: [{ path: spec.path, size: response.size, contentType: response.contentType, sha256: response.sha256 }], keylog, tls };
  }

  /** Stops both processes (a failed flow) and removes the response file. */
  async close(): Promise<void> {
    for (const child of [this.client, this.server]) {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await this.serverExit;
    await rm(join(this.workspace.www, this.spec().path), { force: true });
  }

  private spec(): BodySpec {
    return this.plan.objects[0]!;
  }

  private suite(): TlsSuite {
    if (this.plan.suite === undefined) throw new Error(`${this.what}: planned without a TLS suite`);
    return this.plan.suite;
  }
}

/** Version and suite flags for s_server and s_client alike. */
function suiteArgs(suite: TlsSuite): string[] {
  return suite.version === 'TLSv1.3' ? ['-tls1_3', '-ciphersuites', suite.cipher] : ['-tls1_2', '-cipher', suite.cipher];
}

/** s_server -HTTP sends the file as it is: status line, headers and body. */
async function writeResponseFile(path: string, seed: string, spec: BodySpec): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  try {
    await file.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentTypeOf(spec.kind)}\r\nContent-Length: ${spec.size}\r\nConnection: close\r\n\r\n`);
    for (const chunk of bodyChunks(seed, spec)) await file.write(chunk);
  } finally {
    await file.close();
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
