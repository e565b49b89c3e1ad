/**
 * What the stitcher says it exported is what its outputs exported: a wire
 * output with no peer does not turn into "N packets" and exit 0, and /metrics
 * tells handed, exported, dropped and refused apart, with the store's calls.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtap, startCloudtap } from '../support/cli.js';
import { freePort, waitForMetric } from '../support/metrics-client.js';

async function series(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    found.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return found;
}

describe('e2e: exports that tell the truth', function () {
  this.timeout(60_000);
  let bucket: string;
  let flows: number;
  let objects: number;
  let allObjects: number;

  before(async () => {
    bucket = join(await mkdtemp(join(tmpdir(), 'cloudtap-truth-')), 'bucket');
    const result = await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 4, gateways: 1, seed: 'truth', bodyBytes: [20_000] });
    flows = result.flows.length;
    objects = result.trafficObjects;
    allObjects = result.objects.length;
  });

  it('refuses a pcap-over-ip peer whose name does not resolve, before reading anything', async () => {
    const { code, stdout, stderr } = await cloudtap(['stitch', '--source', `file://${bucket}`, '--once', '--quiet', '--output', 'pcap-over-ip://no-such-host.invalid:57012']);
    expect(code).to.equal(1);
    expect(stderr).to.match(/output pcap-over-ip:\/\/no-such-host\.invalid:57012: resolving no-such-host\.invalid/);
    expect(stdout).to.not.match(/packets/);
  });

  it('fails a one-off run whose pcap-over-ip peer refused the connection, and says how many packets were dropped', async () => {
    const port = await freePort(); // nothing listens there
    const { code, stdout, stderr } = await cloudtap(['stitch', '--source', `file://${bucket}`, '--once', '--quiet', '--output', `pcap-over-ip://127.0.0.1:${port}`]);
    expect(code, stderr).to.equal(1);
    const handed = /(\d+) packets handed, 0 sent/.exec(stdout);
    expect(handed, stdout).to.not.equal(null);
    expect(Number(handed![1])).to.be.greaterThan(flows * 3);
    expect(stdout).to.match(/\d+ dropped, 1 send errors/);
    expect(stderr).to.include(`cloudtap: output pcap-over-ip://127.0.0.1:${port}: ${handed![1]} of ${handed![1]} packets dropped`);
    expect(stderr).to.include('ECONNREFUSED 1');
  });

  it('shows handed, exported, dropped and refused per output, and the store calls, on /metrics', async () => {
    const refused = await freePort();
    const metricsPort = await freePort();
    const file = join(bucket, '..', 'out.pcap');
    const { child, printed, exited } = startCloudtap(['stitch', '--source', `file://${bucket}`, '--output', `pcap://${file}`,
      '--output', `pcap-over-ip://127.0.0.1:${refused}`, '--poll-interval', '200ms', '--metrics-port', String(metricsPort), '--quiet', '--log-level', 'error']);
    try {
      expect(await waitForMetric(metricsPort, 'cloudtap_objects_read_total', objects), printed.stderr).to.equal(objects);
      const found = await series(metricsPort);
      const pcap = `output="pcap://${file}"`;
      const wire = `output="pcap-over-ip://127.0.0.1:${refused}"`;
      const handed = found.get(`cloudtap_output_packets_total{${pcap}}`)!;
      expect(handed).to.be.greaterThan(0);
      expect(found.get(`cloudtap_output_exported_packets_total{${pcap}}`)).to.equal(handed);
      expect(found.get(`cloudtap_output_dropped_packets_total{${pcap}}`)).to.equal(0);
      // Both outputs get the same packets (same synthesiser); the refused one sends none of them.
      expect(found.get(`cloudtap_output_packets_total{${wire}}`)).to.equal(handed);
      expect(found.get(`cloudtap_output_exported_packets_total{${wire}}`)).to.equal(0);
      expect(found.get(`cloudtap_output_dropped_packets_total{${wire}}`)).to.equal(handed);
      expect(found.get(`cloudtap_output_send_errors_total{${wire},code="ECONNREFUSED"}`)).to.be.at.least(1);
      // Traffic and key objects, each read once.
      expect(found.get('cloudtap_store_requests_total{store="source",operation="read",status="ok"}')).to.equal(allObjects);
      expect(found.get('cloudtap_store_requests_total{store="source",operation="list",status="ok"}')).to.be.greaterThan(0);
      expect(found.get('cloudtap_store_errors_total{store="source",operation="read",kind="missing"}')).to.equal(0);
      // What each gateway copied, for the usage dashboard: one gateway here, so all the bytes read.
      const perGateway = [...found].filter(([name]) => name.startsWith('cloudtap_gateway_object_bytes_read_total{gateway='));
      expect(perGateway).to.have.length(1);
      expect(perGateway[0]![1]).to.equal(found.get('cloudtap_object_bytes_read_total')).and.be.greaterThan(0);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0); // a polling stitcher reports drops in metrics and keeps going
    } finally {
      child.kill('SIGKILL');
    }
  });
});
