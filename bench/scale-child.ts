/**
 * Scale, in a process of its own (run with --expose-gc):
 *
 * `memory <flows> open|closed`: a polling stitcher reads <flows> flows (open,
 * a request and a response each), then a later object moves the gateway's
 * clock 60 s on, past the reorder window, so nothing is held any more; the
 * flows stay open (idle) or, for the baseline, were closed. Prints the heap
 * and off-heap memory after a full GC; the difference over <flows> is the
 * memory per idle open flow.
 *
 * `requests <gateways> <active>`: <gateways> gateways each have an object in
 * the current hour, <active> of them add one object per poll; a polling
 * stitcher (poll 300 ms, look-back 3 h as the CLI polls) over a local folder
 * counts its store calls. Prints calls per poll in steady state (ListingSchedule:
 * each active gateway's folder every poll, each hour of the window swept by a
 * flat listing once per cap), over one cap's worth of polls after three caps to settle.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { objectKey } from '../stitcher/format/object-key.js';
import { CloseReason, Direction, ObjectKind, RecordType, type CtapRecord } from '../stitcher/format/records.js';
import { encodeCtapObject } from '../stitcher/format/writer.js';
import type { PacketSink } from '../stitcher/export/sink.js';
import { silentLogger } from '../stitcher/observe/log.js';
import { stitch } from '../stitcher/run/stitch.js';
import { countingStore, StoreCallCounts } from '../stitcher/store/counting-store.js';
import { DEFAULT_MAX_QUIET_MS } from '../stitcher/store/listing-schedule.js';
import { LocalFolderStore } from '../stitcher/store/local.js';

export interface MemoryResult {
  readonly flows: number;
  readonly openFlows: number;
  /** Payload bytes the flow table still held (0 once the reorder window has passed). */
  readonly heldBytes: number;
  /** heapUsed + external (array buffers included) after a full GC. */
  readonly bytes: number;
}

export interface RequestsResult {
  readonly gateways: number;
  readonly active: number;
  readonly polls: number;
  readonly listsPerPoll: number;
  readonly readsPerPoll: number;
}

/** The requests run's poll interval. */
const POLL_MS = 300;

const discard: PacketSink = {
  description: 'bench://discard',
  write: () => true,
  drain: async () => {},
  flush: async () => {},
  close: async () => {},
};

function flowRecords(index: number, tsNs: bigint, close: boolean): CtapRecord[] {
  const flowId = randomBytes(16);
  const request = Buffer.from('GET / HTTP/1.1\r\nHost: idle.example\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n');
  const records: CtapRecord[] = [
    {
      type: RecordType.FlowOpen, flowId, tsNs, ipVersion: 4, l4: 6,
      clientIp: Buffer.from([10, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff]), clientPort: 1024 + (index % 60000),
      serverIp: Buffer.from([198, 51, 100, 10]), serverPort: 443, tags: {},
    },
    { type: RecordType.Data, flowId, tsNs: tsNs + 1000n, dir: Direction.ClientToServer, offset: 0n, payload: request },
    { type: RecordType.Data, flowId, tsNs: tsNs + 2000n, dir: Direction.ServerToClient, offset: 0n, payload: response },
  ];
  if (close) records.push({ type: RecordType.FlowClose, flowId, tsNs: tsNs + 3000n, reason: CloseReason.FinFromClient, bytesC2s: BigInt(request.length), bytesS2c: BigInt(response.length) });
  return records;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('scale-child: run with node --expose-gc');
  gc();
  gc();
}

async function memory(flows: number, open: boolean, folder: string): Promise<MemoryResult> {
  const store = new LocalFolderStore(join(folder, 'bucket'));
  const perObject = 5000;
  const startNs = BigInt(Date.now() - 10 * 60_000) * 1_000_000n;
  let seq = 0n;
  for (let first = 0; first < flows; first += perObject) {
    const records = [];
    for (let i = first; i < Math.min(flows, first + perObject); i++) records.push(...flowRecords(i, startNs + BigInt(i) * 1000n, !open));
    await store.write(objectKey('', ObjectKind.Traffic, 'gw-idle', seq, startNs), encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-idle', seq, createdNs: startNs }, records));
    seq++;
  }
  // The clock object: 60 s later, one closed flow of its own, so the gateway's clock passes the reorder window.
  const laterNs = startNs + 60_000_000_000n;
  await store.write(objectKey('', ObjectKind.Traffic, 'gw-idle', seq, laterNs), encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-idle', seq, createdNs: laterNs }, flowRecords(flows, laterNs, true)));
  const objects = Number(seq) + 1;
  const abort = new AbortController();
  let read = 0;
  let openFlows = 0;
  let heldBytes = 0;
  const running = stitch({
    source: store, once: false, pollIntervalMs: 200, logger: silentLogger(), signal: abort.signal,
    outputs: [{ sink: discard, options: { url: discard.description, variant: 'original', remap: [] } }],
    onProgress: (stats) => {
      read = stats.objects;
      openFlows = stats.flows.flowsOpen;
      heldBytes = stats.flows.bufferedBytes;
    },
  });
  while (read < objects) await sleep(50);
  await sleep(500); // one more poll: nothing new, everything settled
  collectGarbage();
  const usage = process.memoryUsage();
  abort.abort();
  await running.catch(() => undefined);
  return { flows, openFlows, heldBytes, bytes: usage.heapUsed + usage.external };
}

async function requests(gateways: number, active: number, folder: string): Promise<RequestsResult> {
  const local = new LocalFolderStore(join(folder, 'bucket'));
  const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
  const name = (i: number): string => `gw-${String(i).padStart(4, '0')}`;
  const put = async (gateway: string, seq: bigint): Promise<void> => {
    const createdNs = nowNs();
    await local.write(objectKey('', ObjectKind.Traffic, gateway, seq, createdNs), encodeCtapObject({ kind: ObjectKind.Traffic, gateway, seq, createdNs }, flowRecords(Number(seq), createdNs, true)));
  };
  for (let i = 0; i < gateways; i++) await put(name(i), 0n);
  const counts = new StoreCallCounts();
  const counter = countingStore(local, counts);
  const abort = new AbortController();
  let objects = 0;
  let polls = (): number => 0;
  const running = stitch({
    source: counter, once: false, pollIntervalMs: POLL_MS, hours: { kind: 'look-back', ms: 3 * 3600_000 }, logger: silentLogger(), signal: abort.signal,
    outputs: [{ sink: discard, options: { url: discard.description, variant: 'original', remap: [] } }],
    onProgress: (stats) => {
      objects = stats.objects;
      polls = () => stats.polls; // the run's own counters, read when needed
    },
  });
  while (objects < gateways) await sleep(50);
  // The active gateways write every poll. Every gateway found at startup is active at first and backs off,
  // doubling, until its step would reach the cap (about two caps): three caps to settle.
  let seq = 1n;
  const writeAndWait = async (): Promise<void> => {
    for (let i = 0; i < active; i++) await put(name(i), seq);
    seq++;
    await sleep(POLL_MS);
  };
  for (const settleEnd = Date.now() + 3 * DEFAULT_MAX_QUIET_MS; Date.now() < settleEnd;) await writeAndWait();
  // Steady state: count from here, over one cap's worth of polls (each hour of the window swept about once).
  const start = { lists: counts.total('list'), reads: counts.total('read'), polls: polls() };
  for (const countEnd = Date.now() + DEFAULT_MAX_QUIET_MS; Date.now() < countEnd;) await writeAndWait();
  await sleep(600);
  abort.abort();
  await running.catch(() => undefined);
  const counted = polls() - start.polls; // a poll lists for the traffic feed and the key feed
  return { gateways, active, polls: counted, listsPerPoll: (counts.total('list') - start.lists) / counted, readsPerPoll: (counts.total('read') - start.reads) / counted };
}

const [mode, first, second] = process.argv.slice(2);
const folder = await mkdtemp(join(tmpdir(), 'cloudtap-scale-'));
try {
  const result = mode === 'memory'
    ? await memory(Number(first), second === 'open', folder)
    : await requests(Number(first), Number(second), folder);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
