/**
 * Keys that land after the traffic, in a polling stitcher (as a pod runs it):
 * the traffic objects come first and the key objects a few polls later. Flows
 * whose keys come within --key-wait (capture time) still decrypt; flows whose
 * wait ran out before their keys came (later traffic moved capture time past it)
 * are exported encrypted only and counted as no-keys. The older traffic lands in
 * the bucket after the newer, so its flows are read behind: their wait counts from
 * their own capture time, not from when they were read.
 */
import { expect } from 'chai';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordType } from '../../stitcher/format/records.js';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { startCloudtap } from '../support/cli.js';
import { onPath } from '../support/run.js';
import { freePort, metric, waitForMetric } from '../support/metrics-client.js';
import { exportedObjectHashes, haveTshark, tsharkFields } from '../support/tshark.js';
import { readAllObjects } from '../generator/read-back.js';

const NS_PER_MINUTE = 60_000_000_000n;


/** The distinct key log lines (no comments) of the key objects in some folders, as the stitcher counts them. */
async function keyLineCount(folders: readonly string[]): Promise<number> {
  const lines = new Set<string>();
  for (const folder of folders) {
    for (const record of (await readAllObjects(new LocalFolderStore(folder))).flatMap((object) => object.records)) {
      if (record.type !== RecordType.TlsKeys) continue;
      for (const line of record.lines.split(/\r\n|\r|\n/).map((l) => l.trim())) if (line !== '' && !line.startsWith('#')) lines.add(line);
    }
  }
  return lines.size;
}

describe('e2e: keys after the traffic, in a polling stitcher', function () {
  this.timeout(180_000);

  it('decrypts the flows whose keys come within --key-wait, and exports the rest encrypted as no-keys', async function () {
    if (!haveTshark() || !onPath('openssl')) this.skip();
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-late-keys-'));
    const bucket = join(dir, 'bucket');
    const keys = join(dir, 'keys');
    const staging = { late: join(dir, 'staging-late'), lateTraffic: join(dir, 'staging-late-traffic'), soon: join(dir, 'staging-soon') };
    for (const folder of [bucket, keys]) await mkdir(folder, { recursive: true });
    const output = join(dir, 'clear.pcap');
    const original = join(dir, 'original.pcapng');
    const port = await freePort();
    const { child, printed, exited } = startCloudtap(['stitch', '--source', `file://${bucket}`, '--keys', `file://${keys}`,
      '--output', `pcap://${output}?variant=cleartext`, '--output', `pcapng://${original}`, '--key-wait', '60s', '--poll-interval', '200ms',
      '--metrics-port', String(port), '--quiet', '--log-level', 'warn']);
    try {
      const tls = { httpsShare: 1, h2Share: 0, opensslShare: 0.5, bodyBytes: 200_000, keysTiming: 'with-traffic' as const, codec: 0 as const };
      // Traffic whose keys will come too late: 10 minutes of capture time pass before they do.
      const late = await generateTraffic({ traffic: new LocalFolderStore(staging.lateTraffic), keys: new LocalFolderStore(staging.late), flows: 6,
        gatewayPrefix: 'gw-late', seed: 'late-keys-late', startNs: BigInt(Date.now()) * 1_000_000n - 40n * NS_PER_MINUTE, ...tls });
      const soon = await generateTraffic({ traffic: new LocalFolderStore(bucket), keys: new LocalFolderStore(staging.soon), flows: 8,
        gatewayPrefix: 'gw-soon', seed: 'late-keys-soon', startNs: late.endNs + 10n * NS_PER_MINUTE, ...tls });
      expect(await waitForMetric(port, 'cloudtap_objects_read_total', soon.trafficObjects), `soon traffic read; stderr: ${printed.stderr}`)
        .to.equal(soon.trafficObjects);
      // The older traffic lands after the newer (a gateway that uploads late): read behind, its flows get no fresh wait.
      await cp(staging.lateTraffic, bucket, { recursive: true });
      const trafficObjects = late.trafficObjects + soon.trafficObjects;
      expect(await waitForMetric(port, 'cloudtap_objects_read_total', trafficObjects), `traffic read; stderr: ${printed.stderr}`).to.equal(trafficObjects);
      expect(await metric(port, 'cloudtap_flows_closed_total')).to.equal(late.flows.length + soon.flows.length);
      await sleep(1000); // a few more polls with the traffic read and no keys
      for (const folder of [staging.soon, staging.late]) await cp(folder, keys, { recursive: true });
      const lines = await keyLineCount([staging.soon, staging.late]);
      expect(lines).to.be.greaterThan(0);
      expect(await waitForMetric(port, 'cloudtap_tls_key_lines_total', lines), `key lines read; stderr: ${printed.stderr}`).to.equal(lines);
      // the flows whose keys came are decrypted once the key gate acts on them (a few polls; longer on a loaded machine)
      expect(await waitForMetric(port, 'cloudtap_tls_flows_decrypted_total', soon.flows.length), `flows decrypted; stderr: ${printed.stderr}`)
        .to.equal(soon.flows.length);
      child.kill('SIGTERM');
      expect(await exited, `stderr: ${printed.stderr}`).to.equal(0);
      expect(printed.stdout).to.match(/cloudtap stitch: stopped/);
      expect(printed.stdout, printed.stdout).to.match(new RegExp(`tls\\s+${soon.flows.length} flows decrypted \\(0 lost part of a direction\\), ${late.flows.length} no-keys undecryptable`));
      const expected = soon.flows.flatMap((flow) => flow.objects.map((o) => o.sha256)).sort();
      expect(await exportedObjectHashes(output), 'the objects of the flows that decrypted, byte for byte').to.deep.equal(expected);
      // the original pcapng held the TLS flows until their keys came: its secrets block precedes them
      expect(await exportedObjectHashes(original), 'decrypted by tshark from the pcapng alone').to.deep.equal(expected);
      const hellos = await tsharkFields(output, 'tls.handshake.type == 1', ['tcp.dstport']);
      expect(hellos.map(([p]) => p), 'the late flows, still encrypted on 443').to.deep.equal(late.flows.map(() => '443'));
    } finally {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
