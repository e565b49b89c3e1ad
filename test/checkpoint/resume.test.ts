/**
 * Resuming from a checkpoint, in process: a flow that is open and holds bytes
 * it cannot hand on yet (a hole waits to be filled by the next object) when a
 * run stops goes on in the next run with the same sequence numbers, every
 * byte once; a flow that closed in an object read again is not reopened.
 * TLS flows stopped mid-stream go on in the clear-text variant from the
 * decryptor's checkpointed state, and flows held for their keys (by the pcapng
 * key gate, by the decryptor), even past their close, are handed again whole.
 * tshark judges the captures of both runs together.
 */
import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { objectKey } from '../../stitcher/format/object-key.js';
import { ObjectKind, type CtapRecord } from '../../stitcher/format/records.js';
import { openFileOutput } from '../../stitcher/export/file-output.js';
import { FileCheckpointStore } from '../../stitcher/checkpoint/checkpoint-store.js';
import { silentLogger } from '../../stitcher/observe/log.js';
import { stitch, type StitchStats } from '../../stitcher/run/stitch.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { runOk } from '../support/run.js';
import { haveTshark, tsharkFields } from '../support/tshark.js';
import { close, CloseReason, data, Direction, flowId, open } from '../flow/records.js';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { splitOutputOptions } from '../../stitcher/graph/output-options.js';
import type { Checkpoint } from '../../stitcher/checkpoint/checkpoint.js';
import { countFlowBytes, judgeUnion, keyLogOf, unionOf } from '../e2e/shards-harness.js';
import { exportedObjectHashes } from '../support/tshark.js';

const T0 = BigInt(Date.now()) * 1_000_000n;
const A = Buffer.alloc(100, 'a');
const B = Buffer.alloc(100, 'b');
const S = Buffer.from(Array.from({ length: 1500 }, (_, i) => 65 + (i % 26)));
const open1 = flowId(1);
const closed2 = flowId(2);

async function writeObject(store: LocalFolderStore, seq: bigint, records: CtapRecord[]): Promise<void> {
  const createdNs = T0 + seq * 1_000_000n;
  await store.write(objectKey('', ObjectKind.Traffic, 'gw-r', seq, createdNs), encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-r', seq, createdNs }, records));
}

/** A polling run that stops (as on SIGTERM) once it has read `objects` objects in all (or after 5 s: then it read too few). */
async function runUntil(bucket: string, checkpoints: string, output: string, objects: number): Promise<StitchStats> {
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), 5000);
  const sink = await openFileOutput(`pcap://${output}`);
  return stitch({
    source: new LocalFolderStore(bucket), outputs: [{ sink, options: { url: output, variant: 'original', remap: [] } }],
    once: false, pollIntervalMs: 20, logger: silentLogger(), signal: stop.signal, hours: { kind: 'look-back', ms: 3_600_000 },
    checkpoint: { store: new FileCheckpointStore(checkpoints, 0), intervalMs: 60_000, logger: silentLogger() },
    onProgress: (stats) => { if (stats.objects >= objects) stop.abort(); },
  }).finally(() => clearTimeout(deadline));
}

describe('pipeline/resume', function () {
  this.timeout(30_000);

  it('goes on with an open flow after a stop: every byte once, the same sequence numbers, no second handshake', async function () {
    if (!haveTshark()) this.skip();
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-resume-'));
    const bucket = join(dir, 'bucket');
    const checkpoints = join(dir, 'checkpoints');
    const store = new LocalFolderStore(bucket);
    await writeObject(store, 0n, [
      open(open1, { tsNs: T0 }),
      data(open1, Direction.ClientToServer, 0, A, T0 + 1n),
      data(open1, Direction.ServerToClient, 1000, S.subarray(1000), T0 + 2n), // waits for bytes 0..1000
      open(closed2, { tsNs: T0 + 3n, clientPort: 50200 }),
      data(closed2, Direction.ClientToServer, 0, A.subarray(0, 50), T0 + 4n),
      close(closed2, CloseReason.FinFromClient, 50, 0, T0 + 5n),
    ]);
    const first = await runUntil(bucket, checkpoints, join(dir, 'first.pcap'), 1);
    expect(first.objects).to.equal(1);
    expect(first.flows.flowsClosed, 'the first run closed only the flow that ended').to.equal(1);
    expect(first.shard.checkpoint?.written).to.equal(1);

    await writeObject(store, 1n, [
      data(open1, Direction.ServerToClient, 0, S.subarray(0, 1000), T0 + 10n),
      data(open1, Direction.ClientToServer, 100, B, T0 + 11n),
      close(open1, CloseReason.FinFromClient, 200, 1500, T0 + 12n),
    ]);
    const second = await runUntil(bucket, checkpoints, join(dir, 'second.pcap'), 2);
    expect(second.shard.resumedFlows).to.equal(1);
    expect(second.flows.flowsOpened, 'the closed flow was not opened again').to.equal(0);
    expect(second.flows.flowsClosed).to.equal(1);

    const union = join(dir, 'union.pcap');
    await runOk('mergecap', ['-a', '-F', 'pcap', '-w', union, join(dir, 'first.pcap'), join(dir, 'second.pcap')]);
    const rows = await tsharkFields(union, 'tcp', ['tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.flags.syn', 'tcp.payload']);
    const streams = new Map<string, { isn?: number; bytes: Buffer; syns: number; repeated: number }>();
    for (const [source = '', destination = '', seq = '0', syn = '', payload = ''] of rows) {
      const key = `${source}>${destination}`;
      const stream = streams.get(key) ?? { bytes: Buffer.alloc(0), syns: 0, repeated: 0 };
      streams.set(key, stream);
      if (syn === '1' || syn === 'True') {
        stream.syns++;
        stream.isn = Number(seq);
        continue;
      }
      if (payload === '') continue;
      const bytes = Buffer.from(payload.replace(/:/g, ''), 'hex');
      const offset = (Number(seq) - stream.isn! - 1 + 2 ** 32) % 2 ** 32;
      if (offset < stream.bytes.length) stream.repeated += Math.min(bytes.length, stream.bytes.length - offset);
      const grown = Buffer.alloc(Math.max(stream.bytes.length, offset + bytes.length));
      stream.bytes.copy(grown);
      bytes.copy(grown, offset);
      stream.bytes = grown;
    }
    const c2s = streams.get('50123>443')!;
    const s2c = streams.get('443>50123')!;
    expect([c2s.syns, s2c.syns], 'one handshake across both runs').to.deep.equal([1, 1]);
    expect(c2s.bytes, 'client bytes').to.deep.equal(Buffer.concat([A, B]));
    expect(s2c.bytes, 'server bytes, the hole filled by the second run').to.deep.equal(S);
    expect([c2s.repeated, s2c.repeated]).to.deep.equal([0, 0]);
    const other = streams.get('50200>443')!;
    expect([other.syns, other.bytes.length, other.repeated]).to.deep.equal([1, 50, 0]);
  });
  it('goes on with TLS flows after a stop: decryption from the checkpoint, held flows handed again, every object once', async function () {
    if (!haveTshark()) this.skip();
    this.timeout(120_000);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-resume-tls-'));
    const [bucket, keys, keysSoFar, checkpoints] = ['bucket', 'keys', 'keys-so-far', 'checkpoints'].map((name) => join(dir, name)) as [string, string, string, string];
    const result = await generateTraffic({
      traffic: new LocalFolderStore(bucket), keys: new LocalFolderStore(keys), flows: 10, gateways: 2, seed: 'resume-tls',
      httpsShare: 0.9, h2Share: 0, bodyBytes: [60_000, 250_000], objectBytes: 12 * 1024,
    });
    // The first run has the keys of one gateway: the other's flows wait for theirs (key gate, decryptor) when it stops.
    const [withKeys, waiting] = result.gateways as [string, string];
    await mkdir(keysSoFar, { recursive: true });
    await cp(keys, keysSoFar, { recursive: true, filter: (path) => !path.includes(`/${waiting}`) });
    const traffic = result.objects.filter((o) => o.kind === 'traffic').length;
    const outputs = [['original.pcap', ''], ['gated.pcapng', ''], ['clear.pcap', '?variant=cleartext']] as const;
    const run = async (name: string, keyFolder: string, stopAfter: number | undefined): Promise<StitchStats> => {
      const stop = new AbortController();
      const targets = await Promise.all(outputs.map(async ([file, query]) => {
        const url = `${file.endsWith('.pcapng') ? 'pcapng' : 'pcap'}://${join(dir, `${name}-${file}`)}${query}`;
        const options = splitOutputOptions(url);
        return { sink: await openFileOutput(options.url), options };
      }));
      return stitch({
        source: new LocalFolderStore(bucket), keys: new LocalFolderStore(keyFolder), outputs: targets,
        cleartext: {},
        once: stopAfter === undefined, pollIntervalMs: 20, logger: silentLogger(), signal: stop.signal, hours: { kind: 'look-back', ms: 3_600_000 },
        // No reorder window: flows hand their bytes on while they are open, so the stop comes mid-stream.
        flowLimits: { reorderWindowNs: 0n },
        checkpoint: { store: new FileCheckpointStore(checkpoints, 0), intervalMs: 60_000, logger: silentLogger() },
        onProgress: (stats) => { if (stopAfter !== undefined && stats.objects >= stopAfter) stop.abort(); },
      });
    };
    const first = await run('first', keysSoFar, Math.floor(traffic / 2));
    expect(first.objects).to.be.below(traffic);
    const checkpoint = JSON.parse(await readFile(join(checkpoints, 'shard-0.json'), 'utf8')) as Checkpoint;
    const carried = Object.entries(checkpoint.gateways).flatMap(([gateway, entry]) => entry.flows.map((flow) => ({ gateway, flow })));
    const decrypting = carried.filter(({ flow }) => flow.stages?.some((stage) => (stage as { mode?: string } | null)?.mode === 'tls'));
    expect(decrypting.length, 'flows carried over mid-stream with their TLS state').to.be.greaterThan(0);
    expect(decrypting.filter(({ gateway }) => gateway !== withKeys)).to.deep.equal([]);
    expect(carried.filter(({ gateway, flow }) => gateway === waiting && flow.exported[0] === 0).length, 'held flows handed again from their start').to.be.greaterThan(0);
    expect(carried.length, 'flows carried though closed, still held for their keys').to.be.greaterThan(first.flows.flowsOpen);

    const second = await run('second', keys, undefined);
    expect(second.shard.resumedFlows).to.equal(carried.length);
    const keylog = await keyLogOf(new LocalFolderStore(keys), join(dir, 'keys.log'));
    const union = async (file: string): Promise<string> => {
      const runs = [join(dir, `first-${file}`), join(dir, `second-${file}`)];
      // The union is judged with the key log: pcapng files go in as plain pcap.
      if (file.endsWith('.pcapng')) for (const path of runs) await runOk('editcap', ['-F', 'pcap', path, `${path}.pcap`]);
      return unionOf(runs.map((path) => (file.endsWith('.pcapng') ? `${path}.pcap` : path)), join(dir, `union-${file}.pcap`));
    };
    // The tapped bytes once each, both outputs of the original variant (gated or not), every object decrypted with the key log.
    await judgeUnion(await union('original.pcap'), result, keylog, new Set(), 0);
    await judgeUnion(await union('gated.pcapng'), result, keylog, new Set(), 0);
    // The clear-text variant: one handshake and no byte twice per connection, every object without keys.
    const clear = await union('clear.pcap');
    const repeats = [...(await countFlowBytes(clear, result))].filter(([, [c2s, s2c]]) => c2s.repeated + s2c.repeated > 0 || c2s.syns !== 1);
    expect(repeats.map(([client]) => client), 'clear-text connections with repeats or not one handshake').to.deep.equal([]);
    const expected = result.flows.flatMap((flow) => flow.objects.map((object) => object.sha256)).sort();
    expect(await exportedObjectHashes(clear, 'http')).to.deep.equal(expected);
  });
});
