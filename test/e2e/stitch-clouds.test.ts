/**
 * The local-folder end-to-end check on every cloud: a simulated gateway writes
 * into S3 (versitygw, which checks SigV4 signatures), GCS (the strict in-repo test
 * server, and fake-gcs-server) or Azure Blob (Azurite), and
 * `cloudtap stitch --once` reads it back with the gateway-format credential files;
 * keys may live in another provider with other credentials.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { openStore } from '../../stitcher/store/open.js';
import { startProviders, stopProviders, type ProviderAccess, type Providers } from '../servers/providers.js';
import { cloudtapOk } from '../support/cli.js';
import { haveTshark } from '../support/tshark.js';
import { expectBothDirections, expectCleanCapture, expectHttpObjects } from './capture-judge.js';

describe('e2e: stitching from S3, GCS and Azure Blob', function () {
  this.timeout(300_000);
  let providers: Providers;

  before(async function () {
    if (!haveTshark()) this.skip();
    providers = await startProviders();
  });

  after(async () => {
    await stopProviders();
  });

  async function generate(traffic: ProviderAccess, keys: ProviderAccess, prefix: string): Promise<GenerateResult> {
    const trafficStore = await openStore(traffic.url('tap', prefix), { credentialsFile: traffic.credentialsFile, role: 'output' });
    const keyStore = await openStore(keys.url('keys', prefix), { credentialsFile: keys.credentialsFile, role: 'output' });
    return generateTraffic({ traffic: trafficStore, keys: keyStore, flows: 12, gateways: 2, seed: prefix, httpsShare: 0.5, h2Share: 0, bodyBytes: 300_000, objectBytes: 128 * 1024, shuffle: true, scatterShare: 0.25 });
  }

  async function stitchAndJudge(traffic: ProviderAccess, keys: ProviderAccess, prefix: string): Promise<void> {
    const result = await generate(traffic, keys, prefix);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-cloud-'));
    const output = join(dir, 'out.pcapng');
    const { stdout, stderr } = await cloudtapOk([
      'stitch', '--source', traffic.url('tap', prefix), '--credentials', traffic.credentialsFile,
      '--keys', keys.url('keys', prefix), '--keys-credentials', keys.credentialsFile,
      '--output', `pcapng://${output}`, '--once', '--quiet',
    ]);
    expect(stdout).to.match(new RegExp(`objects\\s+${result.trafficObjects} read .*, 0 damaged`));
    expect(stdout).to.match(new RegExp(`flows\\s+${result.flows.length} opened, ${result.flows.length} closed`));
    for (const secret of [traffic.secret, keys.secret]) {
      expect(stdout + stderr).not.to.include(secret);
    }
    await expectCleanCapture(output, result);
    await expectBothDirections(output, result);
    await expectHttpObjects(output, result, () => true);
  }

  for (const name of ['s3', 'gcs', 'fakeGcs', 'azure'] as const) {
    it(`${name}: traffic and keys in one provider`, async () => {
      await stitchAndJudge(providers[name], providers[name], `same-${name}`);
    });
  }

  it('traffic in S3, keys in Azure Blob with other credentials', async () => {
    await stitchAndJudge(providers.s3, providers.azure, 'cross-s3-azure');
  });

  it('traffic in GCS, keys in S3', async () => {
    await stitchAndJudge(providers.gcs, providers.s3, 'cross-gcs-s3');
  });

  it('traffic in fake-gcs-server, keys in S3', async () => {
    await stitchAndJudge(providers.fakeGcs, providers.s3, 'cross-fakegcs-s3');
  });

  // fake-gcs-server takes any credentials: a wrong GCS key is judged by the in-repo server only.
  for (const name of ['s3', 'gcs', 'azure'] as const) {
    it(`${name}: a wrong key is one line naming the bucket and the credential file, never the secret`, async () => {
      const access = providers[name];
      const wrong = name === 'gcs' ? providers.wrongGcpKeyFile : join(providers.folder, `wrong-${name}.json`);
      if (name !== 'gcs') {
        const { readFile, writeFile } = await import('node:fs/promises');
        const good = await readFile(access.credentialsFile, 'utf8');
        await writeFile(wrong, good.replace(access.secret, name === 'azure' ? Buffer.alloc(64, 7).toString('base64') : 'WRONGSECRETWRONGSECRET'));
      }
      const { cloudtap } = await import('../support/cli.js');
      const result = await cloudtap(['stitch', '--source', access.url('tap', 'same-' + name), '--credentials', wrong, '--output', 'pcap:///tmp/never.pcap', '--once']);
      const lines = result.stderr.trim().split('\n');
      expect(result.code, result.stderr).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include('tap');
      expect(lines[0]).to.include(wrong);
      if (name === 's3') expect(lines[0]).to.include('SignatureDoesNotMatch');
      expect(result.stdout + result.stderr).not.to.include(access.secret);
    });
  }

  it('writes rotated pcapng files into a bucket, each uploaded whole', async () => {
    const access = providers.azure;
    const result = await generate(access, access, 'to-bucket');
    const output = access.url('other', 'captures/');
    await cloudtapOk(['stitch', '--source', access.url('tap', 'to-bucket'), '--credentials', access.credentialsFile,
      '--keys', access.url('keys', 'to-bucket'), '--output', `pcapng+${output}${output.includes('?') ? '&' : '?'}rotate-size=1M`, '--once', '--quiet']);
    const store = await openStore(output, { credentialsFile: access.credentialsFile });
    const page = await store.list({ prefix: '' });
    expect(page.objects.length, 'files in the bucket').to.be.greaterThan(1);
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-bucket-out-'));
    const { writeFile } = await import('node:fs/promises');
    const { tsharkFields } = await import('../support/tshark.js');
    let syns = 0;
    for (const object of page.objects) {
      expect(object.key).to.match(/^cloudtap-\d{8}T\d{6}Z-\d{6}\.pcapng$/);
      const chunks: Buffer[] = [];
      for await (const chunk of await store.read(object.key)) chunks.push(chunk as Buffer);
      const file = join(dir, object.key);
      await writeFile(file, Buffer.concat(chunks));
      syns += (await tsharkFields(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number'])).length;
    }
    expect(syns, 'every flow starts in one of the files').to.equal(result.flows.length);
  });
});
