/**
 * A polling stitcher, as a pod runs it: it picks up objects written while it
 * runs, reports progress on /metrics, and on SIGTERM flushes and exits 0.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { startCloudtap } from '../support/cli.js';
import { freePort, metric } from '../support/metrics-client.js';
import { haveTshark, tsharkFields } from '../support/tshark.js';

describe('e2e: a polling stitcher', function () {
  this.timeout(120_000);

  it('exports objects that arrive while it runs, shows them on /metrics, and stops cleanly on SIGTERM', async function () {
    if (!haveTshark()) this.skip();
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-poll-'));
    const bucket = join(dir, 'bucket');
    await mkdir(bucket); // a source folder must exist: the bucket is there, still empty
    const output = join(dir, 'out.pcap');
    const port = await freePort();
    const { child, printed, exited } = startCloudtap(['stitch', '--source', `file://${bucket}`, '--output', `pcap://${output}`,
      '--poll-interval', '200ms', '--metrics-port', String(port), '--quiet', '--log-level', 'warn']);
    try {
      const result = await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 10, gateways: 2, seed: 'poll', bodyBytes: [50_000] });
      let closed: number | undefined;
      for (let attempt = 0; attempt < 150 && closed !== result.flows.length; attempt++) {
        await sleep(200);
        closed = await metric(port, 'cloudtap_flows_closed_total');
      }
      expect(closed, `flows closed per /metrics; stderr: ${printed.stderr}`).to.equal(result.flows.length);
      expect(await metric(port, 'cloudtap_objects_read_total')).to.equal(result.trafficObjects);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).to.equal('ok\n');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(printed.stdout).to.match(/cloudtap stitch: stopped/);
      const syns = await tsharkFields(output, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number']);
      expect(syns.length).to.equal(result.flows.length);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
