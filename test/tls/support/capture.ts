/**
 * Real TLS sessions for the tests: a TCP relay on loopback between a client and
 * a server records the bytes of both directions, with offsets and times, as the
 * flow events that reassembly would hand on.
 */
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseReason, Direction, RecordType } from '../../../stitcher/format/records.js';
import type { FlowEvent, FlowIdentity } from '../../../stitcher/flow/events.js';

export interface CapturedFlow {
  readonly events: FlowEvent[];
}

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
  readonly keyPath: string;
  readonly certPath: string;
}

let certificate: TestCertificate | undefined;

/** A self-signed RSA certificate (RSA so that RSA key exchange suites work), made once per run. */
export function testCertificate(): TestCertificate {
  if (certificate !== undefined) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'cloudtap-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=tap.test', '-days', '2',
    '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  certificate = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), keyPath, certPath };
  return certificate;
}

let flowCounter = 0;

/** A flow identity for tests (addresses do not matter to the decryptor). */
export function testFlow(): FlowIdentity {
  const flowId = Buffer.alloc(16);
  flowId.writeUInt32BE(++flowCounter, 12);
  return {
    key: flowId.toString('hex'),
    gateway: 'gw-test',
    open: {
      type: RecordType.FlowOpen,
      flowId,
      tsNs: 0n,
      ipVersion: 4,
      l4: 6,
      clientIp: Buffer.of(10, 0, 0, 1),
      clientPort: 40000 + flowCounter,
      serverIp: Buffer.of(10, 0, 0, 2),
      serverPort: 443,
      tags: {},
    },
  };
}

/** Relays TCP between a client and `target`, recording each chunk as a flow event. */
export class RecordingRelay {
  readonly events: FlowEvent[] = [];
  private server: Server | undefined;
  private readonly offsets = [0n, 0n];
  private finished: Promise<void> | undefined;
  private readonly epochNs = BigInt(Date.now()) * 1_000_000n;
  private readonly hrStart = process.hrtime.bigint();

  constructor(private readonly targetPort: number) {}

  /** Starts listening; resolves to the port clients connect to. */
  async listen(): Promise<number> {
    let done: () => void = () => undefined;
    this.finished = new Promise((resolve) => (done = resolve));
    this.server = createServer((client) => this.relay(client, done));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves once both sides closed; the last event is then the close. */
  async done(): Promise<FlowEvent[]> {
    await this.finished;
    this.server?.close();
    return this.events;
  }

  /** Stops listening (after a failed session). */
  close(): void {
    this.server?.close();
  }

  private now(): bigint {
    return this.epochNs + (process.hrtime.bigint() - this.hrStart);
  }

  private relay(client: Socket, done: () => void): void {
    const upstream = createConnection(this.targetPort, '127.0.0.1');
    let open = 2;
    const closed = (): void => {
      if (--open > 0) return;
      this.events.push({ kind: 'close', tsNs: this.now(), reason: CloseReason.FinFromClient });
      done();
    };
    this.pipe(client, upstream, Direction.ClientToServer, closed);
    this.pipe(upstream, client, Direction.ServerToClient, closed);
  }

  private pipe(from: Socket, to: Socket, dir: Direction, closed: () => void): void {
    from.on('data', (chunk: Buffer) => {
      this.events.push({ kind: 'data', dir, tsNs: this.now(), offset: this.offsets[dir], payload: Buffer.from(chunk) });
      this.offsets[dir] += BigInt(chunk.length);
      to.write(chunk);
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', closed);
  }
}
