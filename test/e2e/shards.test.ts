/**
 * Shards on one machine, as issue 7 checks them: a generator writes into a
 * folder while three `cloudtap stitch` shards with file checkpoints read it;
 * one is stopped with SIGTERM and one killed with kill -9 mid-stream, both
 * restarted, then the three give way to two (a re-shard). The union of all
 * their captures holds every flow and every HTTP object byte for byte, and
 * bytes exported twice only on the killed shard's gateways, no more than it
 * exported after its last checkpoint.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import type { Checkpoint } from '../../stitcher/pipeline/checkpoint.js';
import { shardOfGateway } from '../../stitcher/pipeline/shard.js';
import { haveTshark } from '../support/tshark.js';
import { onPath } from '../support/run.js';
import {
  flowsCarriedOver, gatewaysOf, judgeUnion, keyLogOf, killStitcher, PacedStore, payloadBytes, startStitcher, stopStitcher, unionOf, waitForBytes,
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
    const started: Stitcher[] = [];
    const start = (name: string, index: number, count: number): Stitcher => {
      const output = join(out, `${name}.pcap`);
      outputs.push(output);
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
      const a0 = start('a0-run2', 0, 3);
      // shard 1: killed mid-stream (after at least one checkpoint), restarted
      await waitForBytes(join(checkpoints, 'shard-1.json'), 10);
      await waitForBytes(first[1]!.output, 60_000);
      await killStitcher(first[1]!);
      afterCheckpoint = await payloadBytes(first[1]!.output, await packetsAtCheckpoint(checkpoints, 1, first[1]!.output));
      expect(afterCheckpoint, 'bytes the killed shard exported after its last checkpoint').to.be.below(await payloadBytes(first[1]!.output));
      const a1 = start('a1-run2', 1, 3);
      await waitForBytes(a1.output, 0);
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

      const union = await unionOf(outputs, join(dir, 'union.pcap'));
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
  const position = checkpoint!.outputs?.find((output) => output.output === `pcap://${file}`);
  expect(position, `the checkpoint of shard ${index} says where ${file} stood`).to.not.equal(undefined);
  return position!.packets;
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
