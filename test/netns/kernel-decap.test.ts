/**
 * The Linux kernel as the decapsulating peer: in a network namespace made for
 * the test, a vxlan and a geneve interface receive what the stitcher's sinks
 * send over a veth pair; a capture on those interfaces must show the inner
 * flows whole. Skipped, with a message, where namespaces are not permitted.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openWireOutput } from '../../stitcher/export/wire-output.js';
import { startCapture } from '../export/wire-capture.js';
import { httpConversation } from '../export/wire-frames.js';
import type { TestFlow } from '../export/tunnel-judge.js';
import { interleave, sendAll } from '../export/tunnel-judge.js';
import { sha256 } from '../support/sha.js';
import { exportedObjectHashes, tsharkFields } from '../support/tshark.js';

const run = promisify(execFile);
const namespace = `ctwire${process.pid}`;
const hostSide = `ctw${process.pid % 100000}h`;
const peerSide = `ctw${process.pid % 100000}p`;
// A /30 of its own per run, so two runs at once do not share a route.
const subnet = `198.18.${process.pid % 250}`;
const hostAddress = `${subnet}.1`;
const peerAddress = `${subnet}.2`;

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

async function inNamespace(...args: string[]): Promise<void> {
  await run('ip', ['netns', 'exec', namespace, ...args]);
}

function flows(): TestFlow[] {
  return [
    { endpoints: { client: '10.9.0.1', server: '203.0.113.8', clientPort: 41001, serverPort: 80 }, path: '/k1.bin', body: randomBytes(40_000) },
    { endpoints: { client: 'fd00:9::1', server: '2001:db8::8', clientPort: 41002, serverPort: 80 }, path: '/k2.bin', body: randomBytes(25_000) },
  ];
}

describe('netns: the kernel decapsulates what the sinks send', function () {
  this.timeout(60_000);
  let folder: string;
  let permitted = true;

  before(async function () {
    try {
      await ip('netns', 'add', namespace);
    } catch (error) {
      permitted = false;
      console.log(`      skipping: network namespaces are not permitted here (${(error as Error).message.split('\n')[0]})`);
      this.skip();
    }
    folder = await mkdtemp(join(tmpdir(), 'wire-netns-'));
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', peerSide);
    await ip('link', 'set', peerSide, 'netns', namespace);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
    await ip('link', 'set', hostSide, 'up');
    await inNamespace('ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerSide);
    await inNamespace('ip', 'link', 'set', peerSide, 'up');
    await inNamespace('ip', 'link', 'set', 'lo', 'up');
  });

  after(async () => {
    if (!permitted) return;
    await ip('link', 'del', hostSide).catch(() => undefined);
    await ip('netns', 'del', namespace).catch(() => undefined);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  for (const [name, iface, url, device] of [
    ['VXLAN', 'vx0', `vxlan://${peerAddress}:4789?vni=4242`, ['type', 'vxlan', 'id', '4242', 'dstport', '4789', 'local', peerAddress, 'dev', peerSide]],
    ['GENEVE', 'gn0', `geneve://${peerAddress}:6081?vni=777`, ['type', 'geneve', 'id', '777', 'remote', hostAddress]],
  ] as const) {
    it(`${name}: a capture on the kernel's ${iface} shows every inner flow whole`, async function () {
      try {
        await inNamespace('ip', 'link', 'add', iface, ...device);
      } catch (error) {
        // Containers cannot load kernel modules: a missing vxlan/geneve driver is the machine's limit, not ours.
        if (!/Unknown device type|not supported/i.test((error as Error).message)) throw error;
        console.log(`      skipping: this kernel has no ${name} driver (ip link add ... type ${device[1]}: Unknown device type)`);
        this.skip();
      }
      await inNamespace('ip', 'link', 'set', iface, 'up');
      const file = join(folder, `${iface}.pcap`);
      const tcpdump = await startCapture(file, 'tcp', { iface, netns: namespace });
      const sink = await openWireOutput(url);
      const testFlows = flows();
      const conversations = testFlows.map(({ endpoints, path, body }) =>
        httpConversation(endpoints, path, body, sink.maxSegmentPayload(endpoints.client.includes(':') ? 6 : 4)),
      );
      await sendAll(sink, interleave(conversations));
      expect(await tcpdump.stop(), 'capture drops').to.equal(0);
      expect(sink.stats.sendErrors, JSON.stringify(sink.stats.errorsByCode)).to.equal(0);

      const frames = await tsharkFields(file, '', ['frame.number', 'frame.len']);
      expect(frames.length, 'inner frames the kernel delivered').to.equal(conversations.flat().length);
      const bad = await tsharkFields(file, 'tcp.checksum.status != 1 || ip.checksum.status == 0', ['frame.number']);
      expect(bad).to.deep.equal([]);
      // What the kernel hands on fits the tunnel interface's own MTU (1450 for VXLAN on a 1500 link).
      const tunnelMtu = await interfaceMtu(iface);
      for (const [, length] of frames) expect(Number(length) - 14).to.be.at.most(tunnelMtu);

      const hashes = new Set(await exportedObjectHashes(file));
      for (const { path, body } of testFlows) expect(hashes, path).to.include(sha256(body));
    });
  }
});

async function interfaceMtu(iface: string): Promise<number> {
  const { stdout } = await run('ip', ['netns', 'exec', namespace, 'cat', `/sys/class/net/${iface}/mtu`]);
  return Number(stdout.trim());
}
