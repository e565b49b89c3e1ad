/**
 * Shards in a cluster, against the test Kubernetes API server: each shard
 * holds its Lease and keeps its checkpoint in a ConfigMap. Two pods claim
 * shard 0 and only the Lease holder exports; when it stops, the other takes
 * over from the ConfigMap. Shard 1 is killed with kill -9 and its successor
 * waits for the Lease to expire. Then a re-shard from 3 to 2. The union of
 * all captures holds every flow and HTTP object byte for byte.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { decodeCheckpoint, type Checkpoint } from '../../stitcher/checkpoint/checkpoint.js';
import { startTestApiServer, type TestApiServer } from '../k8s/server.js';
import { writeKubeConfigFile } from '../k8s/kubeconfig.js';
import { haveTshark } from '../support/tshark.js';
import { onPath } from '../support/run.js';
import { until } from '../support/until.js';
import {
  flowsCarriedOver, gatewaysOf, judgeUnion, keyLogOf, killStitcher, PacedStore, payloadBytes, startStitcher, stopStitcher, unionOf, waitForBytes,
  type Stitcher,
} from './shards-harness.js';

/** A Lease changes hands within a lease duration or two. */
const LEASE_WAIT = { timeoutMs: 20_000, intervalMs: 50 };

describe('e2e: shards with Leases and ConfigMap checkpoints', function () {
  this.timeout(120_000);
  let server: TestApiServer | undefined;
  afterEach(async () => server?.close());

  it('only the Lease holder exports; hand-over, kill -9 and a re-shard lose nothing', async function () {
    if (!haveTshark() || !onPath('mergecap')) this.skip();
    server = await startTestApiServer();
    const api = server;
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-shards-k8s-'));
    const bucket = join(dir, 'bucket');
    const out = join(dir, 'out');
    await mkdir(out, { recursive: true });
    await mkdir(bucket, { recursive: true }); // a stitcher refuses a source folder that does not exist
    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeConfigFile(api, kubeconfig);
    const store = new PacedStore(bucket, 25);
    const generating = generateTraffic({
      traffic: store, flows: 30, gateways: 6, seed: 'shards-k8s', bodyBytes: [20_000, 90_000, 250_000], objectBytes: 24 * 1024,
      concurrency: 6, shuffle: true, reorderWindow: 3,
    });
    const all: Stitcher[] = [];
    const pod = (name: string, index: number, count: number): Stitcher => {
      const output = join(out, `${name}.pcap`);
      const stitcher = startStitcher({
        name, bucket, output, checkpoint: 'configmap://default/tap', shard: { index, count },
        env: { KUBECONFIG: kubeconfig, POD_NAME: name }, extraArgs: ['--lease-duration', '3s'],
      });
      all.push(stitcher);
      return stitcher;
    };
    const holderOf = (index: number): string | undefined => {
      const type = api.resources.typeOf('coordination.k8s.io', 'v1', 'leases')!;
      try {
        return (api.resources.get(type, 'default', `tap-shard-${index}`).spec as { holderIdentity?: string }).holderIdentity;
      } catch {
        return undefined;
      }
    };
    let killedBytes = 0;
    try {
      const claimants = [pod('s0-a', 0, 3), pod('s0-b', 0, 3)];
      pod('s1-a', 1, 3);
      const s2 = pod('s2-a', 2, 3);
      await until(() => holderOf(0) !== undefined && holderOf(1) !== undefined && holderOf(2) !== undefined, 'a holder for every shard\'s Lease', LEASE_WAIT);
      const holder = claimants.find((c) => c.name === holderOf(0))!;
      const standby = claimants.find((c) => c !== holder)!;
      await waitForBytes(holder.output, 40_000);
      expect(existsSync(standby.output), 'the pod without the Lease opened an output').to.equal(false);
      // the holder stops: it gives the Lease up and the standby goes on from the ConfigMap
      expect(await stopStitcher(holder), holder.stderr()).to.equal(0);
      await until(() => holderOf(0) === standby.name, `${standby.name} to take the Lease of shard 0`, LEASE_WAIT);
      // shard 1 is killed: its successor must wait for the Lease to expire
      const s1 = all.find((s) => s.name === 's1-a')!;
      await waitForBytes(s1.output, 60_000);
      await killStitcher(s1);
      killedBytes = await payloadBytes([s1.output]);
      const s1b = pod('s1-b', 1, 3);
      await until(() => holderOf(1) === 's1-b', 's1-b to take the Lease of shard 1', { ...LEASE_WAIT, timeoutMs: 15_000 });
      await sleep(1000);
      // re-shard 3 -> 2
      for (const stitcher of [standby, s1b, s2]) expect(await stopStitcher(stitcher), stitcher.stderr()).to.equal(0);
      const second = [pod('r0', 0, 2), pod('r1', 1, 2)];
      await until(() => holderOf(0) === 'r0' && holderOf(1) === 'r1', 'r0 and r1 to take the Leases', LEASE_WAIT);
      const result = await generating;
      await waitUntilCaughtUp(api, result.objects.filter((o) => o.kind === 'traffic').map((o) => [o.gateway, o.seq] as const));
      for (const stitcher of second) expect(await stopStitcher(stitcher), stitcher.stderr()).to.equal(0);
      expect(flowsCarriedOver(all), 'open flows carried over by the pods that took over').to.be.greaterThan(0);
      for (const index of [0, 1]) {
        const type = api.resources.typeOf('', 'v1', 'configmaps')!;
        const report = JSON.parse((api.resources.get(type, 'default', `tap-shard-${index}-checkpoint`).data as Record<string, string>)['status.json']!) as { throughputMbps: number; updatedAt: string };
        expect(report.throughputMbps, `shard ${index} status report for the operator`).to.be.a('number');
        expect(Date.parse(report.updatedAt)).to.be.greaterThan(Date.now() - 60_000);
      }

      // in the order they exported: a flow goes on in a later capture, never an earlier one
      const exportOrder = [holder, all.find((s) => s.name === 's1-a')!, s2, standby, s1b, ...second];
      const union = await unionOf(exportOrder.map((s) => s.output), join(dir, 'union.pcap'));
      const keylog = await keyLogOf(store, join(dir, 'keys.log'));
      await judgeUnion(union, result, keylog, gatewaysOf(result, 1, 3), killedBytes);
    } finally {
      for (const stitcher of all) stitcher.child.kill('SIGKILL');
      await generating.catch(() => undefined);
    }
  });
});

function checkpointsIn(api: TestApiServer): Checkpoint[] {
  const type = api.resources.typeOf('', 'v1', 'configmaps')!;
  const found: Checkpoint[] = [];
  for (const index of [0, 1, 2]) {
    try {
      const text = (api.resources.get(type, 'default', `tap-shard-${index}-checkpoint`).data as Record<string, string>)['checkpoint.json']!;
      found.push(decodeCheckpoint(text, `tap-shard-${index}-checkpoint`));
    } catch {
      // not written yet
    }
  }
  return found;
}

async function waitUntilCaughtUp(api: TestApiServer, objects: readonly (readonly [string, bigint])[], timeoutMs = 40_000): Promise<void> {
  const last = new Map<string, bigint>();
  for (const [gateway, seq] of objects) if (seq >= (last.get(gateway) ?? -1n)) last.set(gateway, seq);
  await until(() => {
    const entries = new Map<string, { nextSeq: string; flows: readonly unknown[] }>();
    for (const checkpoint of checkpointsIn(api)) {
      for (const [gateway, entry] of Object.entries(checkpoint.gateways)) {
        const known = entries.get(gateway);
        if (known === undefined || BigInt(entry.nextSeq) > BigInt(known.nextSeq)) entries.set(gateway, entry);
      }
    }
    return [...last].every(([gateway, seq]) => {
      const entry = entries.get(gateway);
      return entry !== undefined && BigInt(entry.nextSeq) > seq && entry.flows.length === 0;
    });
  }, 'every gateway checkpointed past its last object, no flow open', { timeoutMs, intervalMs: 50 });
}
