/**
 * Latency of a polling stitcher (poll interval 1 s, the default reorder window
 * of 30 s): the time from an object landing in the bucket (its upload
 * resolved) to the first packet of its flow leaving the stitcher (handed to
 * the output). Every object holds one short flow that opens, carries a request
 * and a response and closes within the object, so its bytes are released
 * when the object ends, as a gateway's short connections are. Objects are
 * uploaded one by one at a steady pace while the stitcher polls, through
 * the stitcher's own store adapters: a local folder, Azurite, and versitygw
 * (S3, SigV4). Prints one JSON line: p50, p99, max, and objects never seen.
 *
 *     node latency-child.js file|azure|s3 <objects> <objects per second>
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { objectKey } from '../stitcher/format/object-key.js';
import { CloseReason, Direction, ObjectKind, RecordType, type CtapRecord } from '../stitcher/format/records.js';
import { encodeCtapObject } from '../stitcher/format/writer.js';
import type { PacketSink } from '../stitcher/export/sink.js';
import type { Packet } from '../stitcher/packet/packet.js';
import { silentLogger } from '../stitcher/observe/log.js';
import { stitch } from '../stitcher/run/stitch.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { openStore } from '../stitcher/store/open.js';
import type { ObjectStore } from '../stitcher/store/store.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from '../test/servers/azurite.js';
import { startVersitygw } from '../test/servers/versitygw.js';
import { median } from './pairs.js';

export interface LatencyResult {
  readonly store: string;
  readonly objects: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Objects whose first packet never left within the run. */
  readonly missing: number;
}

const GATEWAY = 'gw-latency';
const FIRST_PORT = 20000;

/** One object: a whole HTTP exchange of flow `index` (client port FIRST_PORT + index), closed inside. */
function objectOf(seq: number, createdNs: bigint): Buffer {
  const flowId = randomBytes(16);
  const request = Buffer.from(`GET /object/${seq} HTTP/1.1\r\nHost: bench.example\r\n\r\n`);
  const response = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n'), randomBytes(2000)]);
  const records: CtapRecord[] = [
    { type: RecordType.FlowOpen, flowId, tsNs: createdNs, ipVersion: 4, l4: 6, clientIp: Buffer.from([10, 1, 0, 1]), clientPort: FIRST_PORT + seq, serverIp: Buffer.from([198, 51, 100, 9]), serverPort: 80, tags: {} },
    { type: RecordType.Data, flowId, tsNs: createdNs + 1000n, dir: Direction.ClientToServer, offset: 0n, payload: request },
    { type: RecordType.Data, flowId, tsNs: createdNs + 2000n, dir: Direction.ServerToClient, offset: 0n, payload: response },
    { type: RecordType.FlowClose, flowId, tsNs: createdNs + 3000n, reason: CloseReason.FinFromServer, bytesC2s: BigInt(request.length), bytesS2c: BigInt(response.length) },
  ];
  return encodeCtapObject({ kind: ObjectKind.Traffic, gateway: GATEWAY, seq: BigInt(seq), createdNs }, records);
}

/** The first packet of each flow, by client port: TCP source or destination port of the inner IPv4 frame. */
class FirstPacketSink implements PacketSink {
  readonly description = 'bench://first-packet';
  readonly firstSeen = new Map<number, number>();

  write(packet: Packet): boolean {
    const frame = packet.header;
    const ipStart = 14;
    const tcpStart = ipStart + (frame[ipStart]! & 0x0f) * 4;
    const source = frame.readUInt16BE(tcpStart);
    const port = source === 80 ? frame.readUInt16BE(tcpStart + 2) : source;
    if (!this.firstSeen.has(port)) this.firstSeen.set(port, performance.now());
    return true;
  }

  async drain(): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

async function openBenchStore(kind: string, folder: string): Promise<{ store: ObjectStore; stop: () => Promise<void> }> {
  if (kind === 'file') return { store: new LocalFolderStore(join(folder, 'bucket')), stop: async () => {} };
  const credentials = join(folder, 'credentials.json');
  if (kind === 'azure') {
    const azurite = await startAzurite();
    await new ContainerClient(`${azurite.endpoint}/bench`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).create();
    await writeFile(credentials, JSON.stringify({ access_key: AZURITE_KEY }), { mode: 0o600 });
    const store = await openStore(`azblob://${AZURITE_ACCOUNT}/bench/?endpoint=${encodeURIComponent(azurite.endpoint)}`, { credentialsFile: credentials });
    return { store, stop: () => azurite.stop() };
  }
  if (kind === 's3') {
    const gateway = await startVersitygw(['bench']);
    await writeFile(credentials, JSON.stringify({ access_key_id: gateway.accessKeyId, secret_access_key: gateway.secretAccessKey }), { mode: 0o600 });
    const store = await openStore(`s3://bench/?region=us-east-1&endpoint=${encodeURIComponent(gateway.endpoint)}`, { credentialsFile: credentials });
    return { store, stop: () => gateway.stop() };
  }
  throw new Error(`latency-child: store ${kind} is not file, azure or s3`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const [kind = 'file', countText = '300', rateText = '20'] = process.argv.slice(2);
const count = Number(countText);
const folder = await mkdtemp(join(tmpdir(), 'cloudtap-latency-'));
const { store, stop } = await openBenchStore(kind, folder);
const sink = new FirstPacketSink();
const abort = new AbortController();
const landed = new Map<number, number>();
const running = stitch({
  source: store, once: false, pollIntervalMs: 1000, logger: silentLogger(), signal: abort.signal,
  outputs: [{ sink, options: { url: sink.description, variant: 'original', remap: [] } }],
});
// Steady uploads, with a few milliseconds of jitter so that landings fall at every phase of the poll.
for (let seq = 0; seq < count; seq++) {
  const createdNs = BigInt(Date.now()) * 1_000_000n;
  await store.write(objectKey('', ObjectKind.Traffic, GATEWAY, BigInt(seq), createdNs), objectOf(seq, createdNs));
  landed.set(FIRST_PORT + seq, performance.now());
  await sleep(1000 / Number(rateText) * (0.5 + Math.random()));
}
// Every object gets two poll intervals and a margin to show up.
const deadline = performance.now() + 5000;
while (sink.firstSeen.size < count && performance.now() < deadline) await sleep(50);
abort.abort();
await running.catch(() => undefined);
await store.close?.();
await stop();
await rm(folder, { recursive: true, force: true });
const latencies = [...landed].flatMap(([port, at]) => {
  const seen = sink.firstSeen.get(port);
  return seen === undefined ? [] : [seen - at];
}).sort((a, b) => a - b);
const result: LatencyResult = {
  store: kind, objects: count, p50Ms: median(latencies), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? Number.NaN, missing: count - latencies.length,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
