/**
 * The contract test: every example and every target type and option rendered by
 * the operator's pure builders (the config ConfigMap and the shard Deployment),
 * then the REAL stitcher started as the Deployment starts it (its command, args
 * and env) on that config, against a local bucket made by `cloudtap generate`.
 * It must start, and every output must receive traffic.
 *
 * Only what a pod's surroundings supply is substituted, each named below:
 * - the CloudTap's wire targets point at loopback listeners of this test (inputs);
 * - in the rendered config, the source and key stores become the local bucket and
 *   their credentials files go (a local folder takes none), pcapBucket stores
 *   become a local folder, the pcapVolume mount root a temp folder, the checkpoint
 *   a file checkpoint and the metrics port a free one;
 * - `--once --quiet` are appended, so that the run ends after one pass.
 * Every other byte of every output URL is the operator's.
 */
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Container, V1Deployment } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudTap, Target } from '../../operator/api/types.js';
import { desiredState } from '../../operator/specs/desired.js';
import { pcapMountRoot } from '../../operator/specs/urls.js';
import { CONFIG_KEY, CONFIG_PATH, METRICS_PORT } from '../../contract/names.js';
import type { StitcherConfigFile } from '../../contract/stitcher-config.js';
import { cloudtap, cloudtapBin, cloudtapOk } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { allCases } from './cases.js';

const PCAPNG_MAGIC = 0x0a0d0d0a;
const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1]);

/** A loopback peer for one wire target, counting what arrives. */
interface Peer {
  readonly host: string;
  readonly port: number;
  /** The first datagram or the first bytes of the stream. */
  first(): Buffer | undefined;
  count(): number;
  close(): Promise<void>;
}

async function udpPeer(host: '127.0.0.1' | '::1'): Promise<Peer> {
  const socket: Socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
  let first: Buffer | undefined;
  let count = 0;
  socket.on('message', (message) => {
    first ??= Buffer.from(message);
    count++;
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { host, port: socket.address().port, first: () => first, count: () => count, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

async function tcpPeer(): Promise<Peer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const server: Server = createServer((connection) => connection.on('data', (chunk: Buffer) => {
    if (bytes < 64) chunks.push(chunk);
    bytes += chunk.length;
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1', port: (server.address() as AddressInfo).port,
    first: () => (chunks.length === 0 ? undefined : Buffer.concat(chunks)), count: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}


/** The CloudTap with its wire targets aimed at loopback peers (GENEVE over IPv6, to keep a bracketed host). */
async function withPeers(cloudTap: CloudTap): Promise<{ cloudTap: CloudTap; peers: Map<string, Peer> }> {
  const peers = new Map<string, Peer>();
  const targets: Target[] = [];
  for (const target of cloudTap.spec.targets) {
    if (target.type === 'vxlan' || target.type === 'geneve' || target.type === 'pcapOverIp') {
      const peer = target.type === 'pcapOverIp' ? await tcpPeer() : await udpPeer(target.type === 'geneve' ? '::1' : '127.0.0.1');
      peers.set(target.name, peer);
      targets.push({ ...target, host: peer.host, port: peer.port });
    } else {
      targets.push(target);
    }
  }
  return { cloudTap: { ...cloudTap, spec: { ...cloudTap.spec, targets } }, peers };
}

function findObject<T>(objects: readonly { kind?: string; metadata?: { name?: string } }[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (found === undefined) throw new Error(`the operator built no ${kind} ${name}`);
  return found as T;
}

/** The rendered config with the pod's surroundings swapped for local ones (see the file comment). */
function localConfig(config: StitcherConfigFile, targets: readonly Target[], run: string, bucket: string, metricsPort: number): StitcherConfigFile {
  const rest: StitcherConfigFile & { credentials?: string; keysCredentials?: string } = { ...config };
  delete rest.credentials;
  delete rest.keysCredentials;
  // outputs[i] is targets[i]: each bucket target gets a folder of its own.
  const outputs = (config.outputs ?? []).map((url, index) => {
    if (url.startsWith(`pcapng://${pcapMountRoot}/`)) return url.replace(pcapMountRoot, join(run, 'pcap'));
    const bucketOutput = /^(pcap|pcapng)\+[a-z0-9]+:\/\/[^?]*(\?.*)?$/.exec(url);
    if (bucketOutput === null) return url;
    const query = new URLSearchParams(bucketOutput[2]?.slice(1) ?? '');
    // The store's own parameters belong to the store this replaces.
    query.delete('region');
    query.delete('endpoint');
    return `${bucketOutput[1]}+file://${join(run, 'bucket-out', targets[index]!.name)}/?${query.toString()}`;
  });
  return {
    ...rest,
    source: `file://${bucket}`,
    ...(config.keys !== undefined ? { keys: `file://${bucket}` } : {}),
    outputs,
    checkpoint: `file://${join(run, 'checkpoint')}`,
    metricsPort,
  };
}

function captureFiles(folder: string): string[] {
  return readdirSync(folder).filter((name) => /\.pcapng?$/.test(name)).map((name) => join(folder, name));
}

/** How shard 0 of the CloudTap starts: its command line and environment, on a local copy of its config. */
interface RenderedShard {
  readonly run: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly metricsPort: number;
  readonly container: V1Container;
}

async function renderShard(cloudTap: CloudTap, bucket: string): Promise<RenderedShard> {
  const run = mkdtempSync(join(tmpdir(), 'cloudtap-contract-run-'));
  const name = cloudTap.metadata.name;
  const { objects } = desiredState(cloudTap, {});
  const configMap = findObject<V1ConfigMap>(objects, 'ConfigMap', `${name}-config`);
  const deployment = findObject<V1Deployment>(objects, 'Deployment', `${name}-shard-0`);
  const container = deployment.spec!.template.spec!.containers[0]!;
  const config = JSON.parse(configMap.data![CONFIG_KEY]!) as StitcherConfigFile;
  const metricsPort = await freePort();
  const local = localConfig(config, cloudTap.spec.targets, run, bucket, metricsPort);
  for (const target of cloudTap.spec.targets.filter((t) => t.type === 'pcapVolume')) mkdirSync(join(run, 'pcap', target.name), { recursive: true });
  for (const target of cloudTap.spec.targets.filter((t) => t.type === 'pcapBucket')) mkdirSync(join(run, 'bucket-out', target.name), { recursive: true });
  const configPath = join(run, 'config.json');
  writeFileSync(configPath, JSON.stringify(local));
  expect(container.command, 'the shard runs the cloudtap command').to.deep.equal(['cloudtap']);
  const args = container.args!.map((arg) => (arg === CONFIG_PATH ? configPath : arg));
  expect(args, 'the config path the shard reads is the one its ConfigMap is mounted at').to.include(configPath);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? `${name}-shard-0-pod`;
  return { run, args, env, metricsPort, container };
}

describe('contract: the real stitcher runs what the operator writes', function () {
  this.timeout(300_000);
  let bucket: string;

  before(async () => {
    bucket = join(mkdtempSync(join(tmpdir(), 'cloudtap-contract-')), 'bucket');
    await cloudtapOk(['generate', '--output', `file://${bucket}`, '--flows', '40', '--gateways', '8', '--seed', 'contract', '--ipv6-share', '0.3', '--quiet']);
  });

  for (const testCase of allCases()) {
    it(`${testCase.name}: starts and exports to every target`, async () => {
      const { cloudTap, peers } = await withPeers(testCase.cloudTap);
      try {
        const { run, args, env } = await renderShard(cloudTap, bucket);
        const result = await cloudtap([...args, '--once', '--quiet'], { env, timeoutMs: 120_000 });
        expect(result.code, `the stitcher exited ${result.code} on the operator's config:\n${result.stderr.slice(-3000)}`).to.equal(0);

        for (const target of cloudTap.spec.targets) {
          const what = `${target.type} target ${target.name}`;
          const peer = peers.get(target.name);
          if (peer !== undefined) {
            expect(peer.count(), `${what}: nothing arrived`).to.be.greaterThan(0);
            const first = peer.first()!;
            if (target.type === 'vxlan') {
              expect(first[0], `${what}: VXLAN I flag`).to.equal(0x08);
              expect(first.readUIntBE(4, 3), `${what}: VNI`).to.equal(target.vni);
            } else if (target.type === 'geneve') {
              expect(first[0]! >> 6, `${what}: GENEVE version`).to.equal(0);
              expect(first.readUIntBE(4, 3), `${what}: VNI`).to.equal(target.vni);
            } else {
              expect(PCAP_MAGICS, `${what}: a pcap stream`).to.include(first.readUInt32BE(0));
            }
          } else {
            const folder = target.type === 'pcapVolume' ? join(run, 'pcap', target.name) : join(run, 'bucket-out', target.name);
            const files = captureFiles(folder);
            expect(files.length, `${what}: capture files in ${folder}`).to.be.greaterThan(0);
            const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
            expect(bytes, `${what}: capture bytes`).to.be.greaterThan(1000);
            expect(readFileSync(files[0]!).readUInt32LE(0), `${what}: a pcapng file`).to.equal(PCAPNG_MAGIC);
          }
        }
      } finally {
        await Promise.all([...peers.values()].map((peer) => peer.close()));
      }
    });
  }
  it('a polling shard answers the Deployment\'s liveness and readiness probes on its metrics port', async () => {
    const example = allCases().find((testCase) => testCase.name === 'examples/s3.yaml')!;
    const { cloudTap, peers } = await withPeers(example.cloudTap);
    const { args, env, metricsPort, container } = await renderShard(cloudTap, bucket);
    expect(container.ports?.find((port) => port.name === 'metrics')?.containerPort, 'the metrics port the probes name').to.equal(METRICS_PORT);
    const child = spawn(cloudtapBin, [...args, '--quiet'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // In the pod the probes reach containerPort 9090; here the config's metricsPort was moved to a free port.
      for (const probe of [container.readinessProbe!, container.livenessProbe!]) {
        const url = `http://127.0.0.1:${metricsPort}${probe.httpGet!.path}`;
        const deadline = Date.now() + 60_000;
        let status = 0;
        while (status !== 200) {
          if (child.exitCode !== null) throw new Error(`the stitcher exited ${child.exitCode}: ${stderr}`);
          if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within 60 s (last ${status})`);
          status = await fetch(url).then((response) => response.status, () => 0);
          if (status !== 200) await sleep(200);
        }
      }
    } finally {
      child.kill('SIGTERM');
      expect(await exited, `a SIGTERM ends the shard cleanly: ${stderr}`).to.equal(0);
      await Promise.all([...peers.values()].map((peer) => peer.close()));
    }
  });
});
