/**
 * A stitcher whose guard (its shard's Lease) withdraws the right to export
 * stops at once: no block is read after, no checkpoint is written, and the
 * run says why. A shard reads only the gateways it owns.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { objectKey } from '../../stitcher/format/object-key.js';
import { ObjectKind, type CtapRecord } from '../../stitcher/format/records.js';
import { openFileOutput } from '../../stitcher/export/file-output.js';
import { FileCheckpointStore } from '../../stitcher/checkpoint/checkpoint-store.js';
import { silentLogger } from '../../stitcher/observe/log.js';
import { shardOfGateway } from '../../stitcher/shard/shard.js';
import { stitch } from '../../stitcher/run/stitch.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { close, CloseReason, data, Direction, flowId, open } from '../flow/records.js';

const T0 = BigInt(Date.now()) * 1_000_000n;

/** One complete flow per object: `objects` objects for each gateway. */
async function bucketWith(gateways: readonly string[], objects: number): Promise<string> {
  const bucket = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-'));
  const store = new LocalFolderStore(bucket);
  let n = 0;
  for (const gateway of gateways) {
    for (let seq = 0n; seq < BigInt(objects); seq++) {
      const id = flowId(++n);
      const ts = T0 + seq * 1000n;
      const records = [open(id, { tsNs: ts, clientPort: 40000 + n }), data(id, Direction.ClientToServer, 0, Buffer.alloc(10, n), ts + 1n), close(id, CloseReason.FinFromClient, 10, 0, ts + 2n)];
      await store.write(objectKey('', ObjectKind.Traffic, gateway, seq, ts), encodeCtapObject({ kind: ObjectKind.Traffic, gateway, seq, createdNs: ts }, records));
    }
  }
  return bucket;
}

async function pcapSink(dir: string): Promise<{ sink: Awaited<ReturnType<typeof openFileOutput>>; options: { url: string; variant: 'original'; remap: string[] } }> {
  const output = join(dir, 'out.pcap');
  return { sink: await openFileOutput(`pcap://${output}`), options: { url: output, variant: 'original', remap: [] } };
}

describe('pipeline/shard-keeper', () => {
  it('stops reading and writes no checkpoint once the guard withdraws the right to export', async () => {
    const bucket = await bucketWith(['gw-g'], 3);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-out-'));
    const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'), 0);
    let read = 0;
    const stats = await stitch({
      source: new LocalFolderStore(bucket), outputs: [await pcapSink(dir)], once: true, logger: silentLogger(),
      checkpoint: { store: checkpoints, intervalMs: 60_000, logger: silentLogger() },
      guard: { mayExport: () => read < 1 },
      onProgress: (s) => (read = s.objects),
    });
    expect(stats.shard.stoppedBy).to.equal('guard');
    expect(stats.objects, 'objects read after the guard said no').to.equal(1);
    expect(stats.flows.flowsOpened).to.equal(1);
    expect(await checkpoints.readAll(), 'a checkpoint written after the Lease was lost').to.deep.equal([]);
  });

  it('a shard reads only its own gateways, and its checkpoint names only them', async () => {
    const gateways = ['gw-a1', 'gw-a2', 'gw-a3', 'gw-a4'];
    const bucket = await bucketWith(gateways, 2);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-out-'));
    const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'), 1);
    const stats = await stitch({
      source: new LocalFolderStore(bucket), outputs: [await pcapSink(dir)], once: true, logger: silentLogger(),
      shard: { index: 1, count: 2 }, checkpoint: { store: checkpoints, logger: silentLogger() },
    });
    const own = gateways.filter((g) => shardOfGateway(g, 2) === 1);
    expect(own.length).to.be.within(1, 3);
    expect(stats.objects).to.equal(own.length * 2);
    const [found] = await checkpoints.readAll();
    expect(Object.keys(found!.checkpoint.gateways).sort()).to.deep.equal(own.sort());
    for (const gateway of own) expect(found!.checkpoint.gateways[gateway]).to.include({ resumeSeq: '2', nextSeq: '2' });
  });

  it('closes a flow whose FLOW_CLOSE never came once its gateway\'s records are an hour past it', async () => {
    const bucket = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-'));
    const store = new LocalFolderStore(bucket);
    const [lost, alive] = [flowId(0x51), flowId(0x52)];
    const hour = 3_600_000_000_000n;
    const objects: CtapRecord[][] = [
      [open(lost, { tsNs: T0, clientPort: 41001 }), open(alive, { tsNs: T0, clientPort: 41002 }), data(lost, Direction.ClientToServer, 0, Buffer.from('x'), T0 + 1n)],
      [data(alive, Direction.ClientToServer, 0, Buffer.from('y'), T0 + hour / 2n)],
      [data(alive, Direction.ClientToServer, 1, Buffer.from('z'), T0 + hour + 2n)],
    ];
    for (const [i, records] of objects.entries()) {
      const seq = BigInt(i);
      await store.write(objectKey('', ObjectKind.Traffic, 'gw-i', seq, T0), encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-i', seq, createdNs: T0 }, records));
    }
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-out-'));
    const closedAfter: number[] = [];
    const stats = await stitch({
      source: store, outputs: [await pcapSink(dir)], once: true, logger: silentLogger(),
      onProgress: (s) => closedAfter.push(s.flows.flowsClosedIdle),
    });
    expect(closedAfter, 'idle flows closed after each object').to.deep.equal([0, 0, 1]);
    expect(stats.flows).to.include({ flowsClosed: 2, flowsClosedIdle: 1 });
  });

  it('closes the flows of a gateway gone quiet for good, then retires it', async () => {
    const bucket = await bucketWith(['gw-q'], 1);
    const store = new LocalFolderStore(bucket);
    const id = flowId(0x61);
    await store.write(objectKey('', ObjectKind.Traffic, 'gw-q', 1n, T0), encodeCtapObject({ kind: ObjectKind.Traffic, gateway: 'gw-q', seq: 1n, createdNs: T0 }, [
      open(id, { tsNs: T0, clientPort: 41100 }), data(id, Direction.ClientToServer, 0, Buffer.from('never closed'), T0 + 1n),
    ]));
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-out-'));
    const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'), 0);
    let clock = Date.now();
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(), 5000);
    const stats = await stitch({
      source: store, outputs: [await pcapSink(dir)], once: false, pollIntervalMs: 10, logger: silentLogger(), signal: stop.signal,
      hours: { kind: 'look-back', ms: 3_600_000 }, now: () => clock,
      checkpoint: { store: checkpoints, intervalMs: 1, logger: silentLogger() },
      onProgress: (s) => {
        // Both objects read: three hours pass, nothing more comes.
        if (s.objects === 2) clock += 3 * 3_600_000;
      },
      onStart: (s) => {
        const watch = setInterval(() => {
          if (s.shard.gatewaysRetired > 0) { clearInterval(watch); stop.abort(); }
        }, 5);
      },
    }).finally(() => clearTimeout(deadline));
    expect(stats.shard.gatewaysRetired).to.equal(1);
    expect(stats.flows).to.include({ flowsOpened: 2, flowsClosed: 2, flowsClosedIdle: 1, flowsOpen: 0 });
    const [found] = await checkpoints.readAll();
    expect(found!.checkpoint.gateways, 'a retired gateway leaves the checkpoint').to.deep.equal({});
  });

  it('flushes every output before each periodic checkpoint, which is then stored at once', async () => {
    const bucket = await bucketWith(['gw-f'], 4);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-keeper-out-'));
    const { sink: inner, options } = await pcapSink(dir);
    let flushes = 0;
    const sink = {
      description: inner.description,
      write: (packet: Parameters<typeof inner.write>[0]) => inner.write(packet),
      drain: () => inner.drain(),
      close: () => inner.close(),
      flush: async () => { flushes++; },
    };
    const stats = await stitch({
      source: new LocalFolderStore(bucket), outputs: [{ sink, options }], once: true, logger: silentLogger(),
      checkpoint: { store: new FileCheckpointStore(join(dir, 'checkpoints'), 0), intervalMs: 1, logger: silentLogger() },
    });
    const { written, unchanged } = stats.shard.checkpoint!;
    expect(written, 'a checkpoint after every object, and the last one').to.be.greaterThan(2);
    // the last checkpoint comes after the outputs closed: no flush needed
    expect(flushes).to.equal(written + unchanged - 1);
  });
});
