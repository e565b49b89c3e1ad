/**
 * Shards on one machine, as issue 7 checks them: a generator writes into a
 * folder while three `cloudtap stitch` shards with file checkpoints read it,
 * each writing rotated pcap files into a folder of its own; one is stopped with
 * SIGTERM and one killed with kill -9 mid-stream, both restarted with the same
 * arguments (so into the same folder, where the files of the run before must
 * survive), then the three give way to two (a re-shard). The union of every
 * file ever written holds every flow and every HTTP object byte for byte, and
 * bytes exported twice only on the killed shard's gateways, no more than it
 * exported after its last checkpoint.
 */
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import type { Checkpoint } from '../../stitcher/checkpoint/checkpoint.js';
import { shardOfGateway } from '../../stitcher/shard/shard.js';
import { haveTshark } from '../support/tshark.js';
import { onPath } from '../support/run.js';
import { until } from '../support/until.js';
import {
  captureFiles, flowsCarriedOver, gatewaysOf, judgeUnion, keyLogOf, killStitcher, PacedStore, payloadBytes, startStitcher, stopStitcher, unionOf, waitForBytes,
  type Stitcher,
} from './shards-harness.js';

describe('e2e: shards with file checkpoints', function () {
  this.timeout(120_000);

  it('SIGTERM, kill -9 and a re-shard from 3 to 2 mid-stream lose nothing and repeat only after a kill', async function () {
    if (!haveTshark() || !onPath('mergecap')) this.skip();
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-shards-'));
    const bucket = join(dir, 'bucket');
    const out = join(dir, 'out');
    const checkpoints = join(dir, 'checkpoints');
    await mkdir(out, { recursive: true });
    await mkdir(bucket, { recursive: true }); // a stitcher refuses a source folder that does not exist
    const store = new PacedStore(bucket, 25);
    const generating = generateTraffic({
      traffic: store, flows: 36, gateways: 6, seed: 'shards', bodyBytes: [20_000, 90_000, 250_000], objectBytes: 24 * 1024,
      concurrency: 6, shuffle: true, reorderWindow: 3, duplicateShare: 0.05,
    });
    const outputs: string[] = [];
    /** Per output folder, the files of each run that has ended, in run order. */
    const runs = new Map<string, string[][]>();
    const ended = async (stitcher: Stitcher): Promise<void> => {
      const earlier = runs.get(stitcher.output) ?? [];
      runs.set(stitcher.output, [...earlier, await captureFiles(stitcher.output, earlier.flat())]);
    };
    const started: Stitcher[] = [];
    const start = (name: string, index: number, count: number): Stitcher => {
      // The same arguments for every run of a shard: the same folder.
      const output = join(out, `shard-${index}-of-${count}/`);
      if (!outputs.includes(output)) outputs.push(output);
      mkdirSync(output, { recursive: true });
      const stitcher = startStitcher({ name, bucket, output, checkpoint: `file://${checkpoints}`, shard: { index, count } });
      started.push(stitcher);
      return stitcher;
    };
    const first = [start('a0-run1', 0, 3), start('a1-run1', 1, 3), start('a2-run1', 2, 3)];
    let afterCheckpoint = 0;
    try {
      // shard 0: a clean stop mid-stream, then a restart from its checkpoint
      await waitForBytes(first[0]!.output, 40_000);
      expect(await stopStitcher(first[0]!), first[0]!.stderr()).to.equal(0);
      await ended(first[0]!);
      const a0 = start('a0-run2', 0, 3);
      // shard 1: killed mid-stream (after at least one checkpoint), restarted
      await waitForBytes(join(checkpoints, 'shard-1.json'), 10);
      await waitForBytes(first[1]!.output, 60_000);
      // Flows go out whole at their close: wait for a checkpoint that has seen some of them, so the kill comes after one.
      await waitForCheckpointedPackets(checkpoints, 1, first[1]!.output);
      await killStitcher(first[1]!);
      await ended(first[1]!);
      const killedFiles = runs.get(first[1]!.output)![0]!;
      const killedSizes = await Promise.all(killedFiles.map(async (file) => (await stat(file)).size));
      afterCheckpoint = await payloadBytes(killedFiles, await packetsAtCheckpoint(checkpoints, 1, first[1]!.output));
      expect(afterCheckpoint, 'bytes the killed shard exported after its last checkpoint').to.be.below(await payloadBytes(killedFiles));
      const a1 = start('a1-run2', 1, 3);
      // The restart writes beside the killed run's files: wait until it has added bytes of its own.
      await waitForBytes(a1.output, killedSizes.reduce((n, size) => n + size, 0));
      await sleep(1000);
      // re-shard: the three stop, two take over from their checkpoints while the generator goes on
      for (const stitcher of [a0, a1, first[2]!]) expect(await stopStitcher(stitcher), stitcher.stderr()).to.equal(0);
      const second = [start('b0', 0, 2), start('b1', 1, 2)];
      const result = await generating;
      await waitUntilCaughtUp(checkpoints, result.objects.filter((o) => o.kind === 'traffic').map((o) => [o.gateway, o.seq] as const));
      for (const stitcher of second) expect(await stopStitcher(stitcher), stitcher.stderr()).to.equal(0);
      expect(result.flows.length).to.equal(36);
      // the stops and the kill came mid-stream: restarts went on with flows that were open
      expect(flowsCarriedOver(started), 'open flows carried over by the restarts').to.be.greaterThan(0);

      // The restart wrote beside the killed run's files, never over them.
      const sizesAfter = await Promise.all(killedFiles.map(async (file) => (await stat(file)).size));
      expect(sizesAfter, 'files of the killed run, after its restart').to.deep.equal(killedSizes);
      expect((await captureFiles(first[1]!.output, killedFiles)).length, 'the restart added files of its own').to.be.greaterThan(0);
      // Every file ever written: per folder the runs in order, each run's files in the order it wrote them.
      const everyFile: string[] = [];
      for (const output of outputs) {
        const before = runs.get(output) ?? [];
        everyFile.push(...before.flat(), ...await captureFiles(output, before.flat()));
      }
      const union = await unionOf(everyFile, join(dir, 'union.pcap'));
      const keylog = await keyLogOf(store, join(dir, 'keys.log'));
      await judgeUnion(union, result, keylog, gatewaysOf(result, 1, 3), afterCheckpoint);
      const final = await readCheckpoints(checkpoints, [0, 1]);
      for (const checkpoint of final) {
        expect(checkpoint.shard.count).to.equal(2);
        // entries of other shards' gateways are carried along as they were found: only its own must be done
        const own = Object.entries(checkpoint.gateways).filter(([gateway]) => shardOfGateway(gateway, 2) === checkpoint.shard.index);
        expect(own.length).to.be.greaterThan(0);
        for (const [gateway, entry] of own) expect(entry.flows, `flows of ${gateway} open after the last stop`).to.deep.equal([]);
      }
    } finally {
      for (const stitcher of first) stitcher.child.kill('SIGKILL');
      await generating.catch(() => undefined);
    }
  });
});

/** Packets the output `file` had taken when shard `index` wrote its checkpoint last. */
async function packetsAtCheckpoint(folder: string, index: number, file: string): Promise<number> {
  const [checkpoint] = await readCheckpoints(folder, [index]);
  const position = checkpoint!.outputs?.find((output) => output.output === `pcap://${file}${file.endsWith('/') ? '?rotate-size=32K' : ''}`);
  expect(position, `the checkpoint of shard ${index} says where ${file} stood`).to.not.equal(undefined);
  return position!.packets;
}

/** Until the checkpoint of shard `index` says its output `file` has taken packets. */
async function waitForCheckpointedPackets(folder: string, index: number, file: string, timeoutMs = 30_000): Promise<void> {
  await until(async () => await packetsAtCheckpoint(folder, index, file) > 0, `a checkpoint of shard ${index} that saw packets in ${file}`, { timeoutMs, intervalMs: 100 });
}

async function readCheckpoints(folder: string, shards: readonly number[]): Promise<Checkpoint[]> {
  return Promise.all(shards.map(async (i) => JSON.parse(await readFile(join(folder, `shard-${i}.json`), 'utf8')) as Checkpoint));
}

/** Until the shards' checkpoints say every gateway was read to its last object and no flow is open. */
async function waitUntilCaughtUp(folder: string, objects: readonly (readonly [string, bigint])[], timeoutMs = 40_000): Promise<void> {
  const last = new Map<string, bigint>();
  for (const [gateway, seq] of objects) if (seq >= (last.get(gateway) ?? -1n)) last.set(gateway, seq);
  const until = Date.now() + timeoutMs;
  let behind: string[] = [];
  while (Date.now() < until) {
    const entries = new Map<string, { nextSeq: string; flows: readonly unknown[] }>();
    for (const checkpoint of await readCheckpoints(folder, [0, 1]).catch(() => [])) {
      for (const [gateway, entry] of Object.entries(checkpoint.gateways)) {
        // a checkpoint also carries other shards' entries it inherited: the one furthest along counts
        const known = entries.get(gateway);
        if (known === undefined || BigInt(entry.nextSeq) > BigInt(known.nextSeq)) entries.set(gateway, entry);
      }
    }
    behind = [...last].filter(([gateway, seq]) => {
      const entry = entries.get(gateway);
      return entry === undefined || BigInt(entry.nextSeq) <= seq || entry.flows.length > 0;
    }).map(([gateway]) => gateway);
    if (behind.length === 0) return;
    await sleep(200);
  }
  throw new Error(`shards did not catch up in ${timeoutMs} ms: ${behind.join(', ')}`);
}
