/**
 * The data path end to end, as a user runs it: a simulated gateway taps real
 * HTTP and HTTPS sessions into a local folder, `cloudtap stitch --once` turns it
 * into pcap and pcapng, and tshark and Suricata judge what came out.
 */
import { expect } from 'chai';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic, type GenerateOptions, type GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtapOk } from '../support/cli.js';
import { exportedObjectHashes, haveTshark, tsharkFields } from '../support/tshark.js';
import { readAllObjects, recordsByFlow } from '../generator/read-back.js';
import { expectBothDirections, expectCleanCapture, expectHttpObjects, expectSuricataAgrees } from './capture-judge.js';

const HOUR_NS = 3_600_000_000_000n;

async function generateInto(options: Omit<GenerateOptions, 'traffic'>): Promise<{ dir: string; bucket: string; result: GenerateResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-e2e-'));
  const bucket = join(dir, 'bucket');
  const result = await generateTraffic({ traffic: new LocalFolderStore(bucket), ...options });
  return { dir, bucket, result };
}

async function stitchOnce(bucket: string, output: string): Promise<string> {
  const { stdout } = await cloudtapOk(['stitch', '--source', `file://${bucket}`, '--output', output, '--once', '--quiet', '--log-level', 'error']);
  return stdout;
}

describe('e2e: local folder to pcap and pcapng', function () {
  this.timeout(300_000);
  let run: { dir: string; bucket: string; result: GenerateResult };
  let pcapng: string;
  let pcap: string;
  let summary: string;

  before(async function () {
    if (!haveTshark()) this.skip();
    // Start just before an hour boundary so flows span objects in two hour folders;
    // records shuffled, DATA written up to 3 objects late, some duplicated and overlapping, objects uploaded out of order.
    const nextHour = (BigInt(Date.now()) * 1_000_000n / HOUR_NS + 1n) * HOUR_NS;
    run = await generateInto({
      flows: 40, gateways: 3, seed: 'e2e', ipv6Share: 0.3, httpsShare: 0.5, h2Share: 0.2,
      objectBytes: 256 * 1024, bodyBytes: 2 * 1024 * 1024, shuffle: true, scatterShare: 0.3, duplicateShare: 0.1, overlapShare: 0.1,
      reorderWindow: 4, startNs: nextHour - 100_000_000n, timeScale: 0, nsPerByte: 20,
    });
    pcapng = join(run.dir, 'out.pcapng');
    pcap = join(run.dir, 'out.pcap');
    summary = await stitchOnce(run.bucket, `pcapng://${pcapng}`);
    await stitchOnce(run.bucket, `pcap://${pcap}`);
  });

  it('reads a run that spans an hour boundary, with flows spanning objects', async function () {
    const hours = new Set(run.result.objects.filter((o) => o.kind === 'traffic').map((o) => o.key.split('/').slice(0, 4).join('/')));
    expect(hours.size, 'hour folders').to.be.at.least(2);
    const flows = recordsByFlow(await readAllObjects(new LocalFolderStore(run.bucket)));
    const spanning = [...flows.values()].filter((f) => new Set([...f.objectKeys].map((k) => k.split('/').slice(0, 4).join('/'))).size > 1);
    expect(spanning.length, 'flows with records in two hours').to.be.greaterThan(0);
  });

  it('prints a summary that counts every object and flow', () => {
    expect(summary).to.match(new RegExp(`objects\\s+${run.result.trafficObjects} read`));
    expect(summary).to.match(new RegExp(`flows\\s+${run.result.flows.length} opened, ${run.result.flows.length} closed`));
    expect(summary).to.match(/0 damaged/);
  });

  it('has IPv4 and IPv6 flows, every one with its handshake', async () => {
    const syns = await tsharkFields(pcapng, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['ip.version']);
    expect(syns.length).to.equal(run.result.flows.length);
    expect(new Set(syns.map(([v]) => v))).to.deep.equal(new Set(['4', '6']));
  });

  it('pcapng: no malformed frame, bad checksum or unexplained expert warning', async () => {
    await expectCleanCapture(pcapng, run.result);
  });

  it('pcap: the same, with TLS left encrypted', async () => {
    await expectCleanCapture(pcap, run.result);
  });

  it('carries both directions of every flow, byte for byte in count', async () => {
    await expectBothDirections(pcap, run.result);
  });

  it('pcapng: every HTTP object, plain and over TLS, comes out byte for byte with no key file', async () => {
    await expectHttpObjects(pcapng, run.result, () => true);
  });

  it('Suricata reassembles every flow without gaps and hashes every plain-HTTP file', async () => {
    await expectSuricataAgrees(pcap, run.result);
  });
});

describe('e2e: a gateway that lost bytes', function () {
  this.timeout(300_000);

  it('shows the loss as a sequence jump, invents nothing, and loses no other flow', async function () {
    if (!haveTshark()) this.skip();
    const run = await generateInto({ flows: 8, gateways: 1, seed: 'gap', httpsShare: 0, gapFlows: [2], gapOffset: 5000, gapBytes: 3000, bodyBytes: [200_000] });
    const pcap = join(run.dir, 'out.pcap');
    const summary = await stitchOnce(run.bucket, `pcap://${pcap}`);
    const lossy = run.result.flows[2]!;
    expect(lossy.gaps.length).to.equal(1);
    expect(summary).to.match(/holes\s+1 \(3,000 bytes: 3,000 lost by the gateway, 0 never arrived\)/);
    const lost = await tsharkFields(pcap, 'tcp.analysis.lost_segment', ['tcp.srcport', 'tcp.dstport']);
    expect(lost.length).to.equal(1);
    await expectCleanCapture(pcap, run.result);
    await expectBothDirections(pcap, run.result);
    await expectHttpObjects(pcap, run.result, (flow) => flow.index !== 2);
    await expectSuricataAgrees(pcap, run.result);
  });
});

describe('e2e: a gateway that left chunks out without a word, in a scattered layout', function () {
  this.timeout(300_000);

  it('reports exactly the dropped ranges as holes, a key log 0600 beside the pcap, and every other flow intact', async function () {
    if (!haveTshark()) this.skip();
    const run = await generateInto({
      flows: 12, gateways: 2, seed: 'drop', httpsShare: 0.5, h2Share: 0, bodyBytes: [120_000], objectBytes: 64 * 1024,
      shuffle: true, scatterShare: 0.3, dropChunks: 5,
    });
    const dropped = run.result.flows.flatMap((flow) => flow.dropped.map((range) => ({ flow: flow.index, ...range })));
    expect(dropped.length, 'chunks the generator left out').to.equal(5);
    const lost = dropped.reduce((n, range) => n + range.length, 0);
    const pcap = join(run.dir, 'out.pcap');
    const keylog = join(run.dir, 'out.keys');
    const summary = await stitchOnce(run.bucket, `pcap://${pcap}?keylog=${keylog}`);
    expect(summary).to.match(new RegExp(String.raw`holes\s+5 \(${lost.toLocaleString('en-US')} bytes: 0 lost by the gateway, ${lost.toLocaleString('en-US')} never arrived\)`));
    expect(((await stat(keylog)).mode & 0o777).toString(8), 'the key log holds secrets').to.equal('600');
    // Each hole shows where it is: one lost-segment mark per dropped chunk, on the server's side.
    const lostMarks = await tsharkFields(pcap, 'tcp.analysis.lost_segment', ['tcp.srcport']);
    expect(lostMarks.length).to.equal(5);
    const damaged = new Set(dropped.map((range) => range.flow));
    const intact = run.result.flows.filter((flow) => !damaged.has(flow.index)).flatMap((flow) => flow.objects.map((object) => object.sha256));
    const carved = new Set(await exportedObjectHashes(pcap, 'http', { keylog }));
    expect(intact.filter((sha) => !carved.has(sha)), 'objects of flows that lost nothing, missing from the capture').to.deep.equal([]);
  });
});

describe('e2e: rotated pcapng files in a folder', function () {
  this.timeout(300_000);

  it('splits by size and every file is a valid capture', async function () {
    if (!haveTshark()) this.skip();
    const run = await generateInto({ flows: 12, gateways: 2, seed: 'rotate', bodyBytes: [1_000_000] });
    const folder = join(run.dir, 'pcaps');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    await stitchOnce(run.bucket, `pcapng://${folder}/?rotate-size=2M`);
    const files = (await readdir(folder)).sort();
    expect(files.length).to.be.greaterThan(3);
    let frames = 0;
    for (const file of files) frames += (await tsharkFields(join(folder, file), '', ['frame.number'])).length;
    const single = join(run.dir, 'all.pcapng');
    await stitchOnce(run.bucket, `pcapng://${single}`);
    expect(frames).to.equal((await tsharkFields(single, '', ['frame.number'])).length);
  });
});
