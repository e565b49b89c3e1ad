/**
 * TLS end to end: real TLS 1.2 and 1.3 sessions (every suite the generator
 * speaks, HTTP/1.1 and HTTP/2) tapped with their keys in another store; the
 * original variant decrypts in tshark with no key file, the clear-text variant
 * needs no keys at all, and Suricata hashes every file of it. Keys that never
 * come, a wrong key and flipped ciphertext each give their stated result and
 * leave the other flows whole.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic, type FlowManifest, type GenerateResult } from '../../stitcher/generator/generate.js';
import { RecordType } from '../../stitcher/format/records.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtapOk } from '../support/cli.js';
import { haveSuricata, runSuricata } from '../support/suricata.js';
import { sha256 } from '../support/sha.js';
import { exportedObjects, haveTshark, tsharkFields } from '../support/tshark.js';
import { expectCleanCapture } from './capture-judge.js';
import { rewriteRecords } from './rewrite-objects.js';

interface Run {
  readonly dir: string;
  readonly traffic: string;
  readonly keys: string;
  readonly result: GenerateResult;
}

async function generate(seed: string, flows: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-tls-'));
  const traffic = join(dir, 'traffic');
  const keys = join(dir, 'keys');
  const result = await generateTraffic({
    traffic: new LocalFolderStore(traffic), keys: new LocalFolderStore(keys), flows, gateways: 2, seed,
    httpsShare: 0.8, h2Share: 0.25, bodyBytes: 600_000, keysTiming: 'after-traffic', codec: 0,
    // A layout the format allows, not only the friendly one: records shuffled in their objects, DATA written objects later.
    objectBytes: 128 * 1024, shuffle: true, scatterShare: 0.25,
  });
  return { dir, traffic, keys, result };
}

async function stitch(run: Run, outputs: string[]): Promise<string> {
  const { stdout } = await cloudtapOk(['stitch', '--source', `file://${run.traffic}`, '--keys', `file://${run.keys}`, '--once', '--quiet',
    '--log-level', 'error', ...outputs.flatMap((o) => ['--output', o])]);
  return stdout;
}

/** HTTP/1 bodies tshark carves out, without the HTTP/2 connection prefaces its HTTP dissector also takes for requests. */
async function http1Objects(file: string): Promise<string[]> {
  const objects = await exportedObjects(file);
  return objects.filter(({ bytes }) => bytes.subarray(0, 14).toString('latin1') !== 'PRI * HTTP/2.0').map(({ bytes }) => sha256(bytes)).sort();
}

function hashesOf(flows: readonly FlowManifest[]): string[] {
  return flows.flatMap((flow) => flow.objects.map((object) => object.sha256)).sort();
}

describe('e2e: TLS decryption, original and clear-text variants', function () {
  this.timeout(300_000);
  let run: Run;
  let summary: string;
  let withoutKeys: FlowManifest;
  const files = { original: '', cleartext: '', both: '' };

  before(async function () {
    if (!haveTshark()) this.skip();
    run = await generate('tls-e2e', 36);
    withoutKeys = run.result.flows.find((flow) => flow.protocol === 'https')!;
    // keys that never arrive for one flow
    await rewriteRecords(run.keys, '.keys', (record) =>
      record.type === RecordType.TlsKeys && record.lines.includes(withoutKeys.clientRandom!) ? undefined : record);
    files.original = join(run.dir, 'original.pcapng');
    files.cleartext = join(run.dir, 'cleartext.pcap');
    files.both = join(run.dir, 'both.pcapng');
    summary = await stitch(run, [`pcapng://${files.original}`, `pcap://${files.cleartext}?variant=cleartext`, `pcapng://${files.both}?variant=both`]);
  });

  const tls = (): FlowManifest[] => run.result.flows.filter((f) => f.tls !== undefined);
  const decryptable = (): FlowManifest[] => tls().filter((f) => f !== withoutKeys);

  it('covers TLS 1.2 and 1.3 with several suites, and reports the flow without keys', () => {
    expect(new Set(tls().map((f) => f.tls!.version))).to.include.members(['TLSv1.2', 'TLSv1.3']);
    expect(new Set(tls().map((f) => f.tls!.cipher)).size).to.be.at.least(4);
    expect(summary).to.match(new RegExp(`tls\\s+${decryptable().length} flows decrypted \\(0 lost part of a direction\\), 1 no-keys undecryptable`));
  });

  it('original: tshark decrypts the pcapng with no key file, every HTTP/1 object byte for byte', async () => {
    const expected = hashesOf(run.result.flows.filter((f) => f.protocol !== 'h2' && f !== withoutKeys));
    expect(await http1Objects(files.original)).to.deep.equal(expected);
  });

  it('clear text: read with no keys at all, every HTTP/1 object byte for byte, HTTP/2 recognised', async () => {
    const expected = hashesOf(run.result.flows.filter((f) => f.protocol !== 'h2' && f !== withoutKeys));
    expect(await http1Objects(files.cleartext)).to.deep.equal(expected);
    const paths = (await tsharkFields(files.cleartext, 'http2.header.name == ":path"', ['http2.header.value'])).flatMap(([v]) => v!.split(','));
    for (const flow of run.result.flows.filter((f) => f.protocol === 'h2')) {
      for (const object of flow.objects) expect(paths, `HTTP/2 :path of flow ${flow.index}`).to.include(object.path);
    }
    const tlsLeft = await tsharkFields(files.cleartext, 'tls.handshake.type == 1', ['tcp.srcport']);
    expect(tlsLeft.length, 'ClientHellos left in clear text: the flow without keys, encrypted').to.equal(1);
    await expectCleanCapture(files.cleartext, run.result);
  });

  it('clear text: Suricata, which cannot decrypt, logs every file with the right hash', async function () {
    if (!haveSuricata()) this.skip();
    const report = await runSuricata(files.cleartext);
    const flows = run.result.flows.filter((f) => f !== withoutKeys);
    // Node's HTTP/2 server sometimes ends a stream with RST_STREAM after its last DATA
    // instead of END_STREAM: Suricata then rightly calls the file TRUNCATED (no hash),
    // so those count when all of their bytes were seen.
    const truncated = report.files.filter((f) => f.state === 'TRUNCATED');
    for (const file of truncated) {
      const object = flows.filter((f) => f.protocol === 'h2').flatMap((f) => f.objects).find((o) => o.path === file.url);
      expect(object, `truncated file ${file.url} is an HTTP/2 object`).not.to.equal(undefined);
      expect(file.size, `bytes of ${file.url}`).to.equal(object!.size);
    }
    const expected = flows.flatMap((f) => f.objects).filter((o) => !truncated.some((t) => t.url === o.path)).map((o) => o.sha256);
    const seen = report.files.filter((f) => f.state === 'CLOSED').map((f) => f.sha256);
    expect([...new Set(seen)].sort()).to.deep.equal([...new Set(expected)].sort());
    expect(report.counters.get('tcp.reassembly_gap')).to.equal(0);
  });

  it('both: each decrypted TLS flow twice, everything else once', async () => {
    const syns = await tsharkFields(files.both, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number']);
    expect(syns.length).to.equal(run.result.flows.length + decryptable().length);
  });
});

describe('e2e: a wrong key and flipped ciphertext', function () {
  this.timeout(300_000);

  it('a wrong key: that flow fails authentication and goes on encrypted, the others decrypt', async function () {
    if (!haveTshark()) this.skip();
    const run = await generate('tls-wrong-key', 10);
    const victim = run.result.flows.find((f) => f.tls?.version === 'TLSv1.3')!;
    await rewriteRecords(run.keys, '.keys', (record) => {
      if (record.type !== RecordType.TlsKeys || !record.lines.includes(victim.clientRandom!)) return record;
      const lines = record.lines.replace(/^(\S+ \S+ )([0-9a-f]+)$/gim, (_all, head: string, secret: string) => head + randomBytes(secret.length / 2).toString('hex'));
      return { ...record, lines };
    });
    const out = join(run.dir, 'clear.pcap');
    const summary = await stitch(run, [`pcap://${out}?variant=cleartext`]);
    const decrypted = run.result.flows.filter((f) => f.tls !== undefined).length - 1;
    expect(summary).to.match(new RegExp(`tls\\s+${decrypted} flows decrypted .*1 auth-failure undecryptable`));
    expect(await http1Objects(out)).to.deep.equal(hashesOf(run.result.flows.filter((f) => f.protocol !== 'h2' && f !== victim)));
  });

  it('flipped ciphertext: that direction stops with a hole, every other flow is whole', async function () {
    if (!haveTshark()) this.skip();
    const run = await generate('tls-flip', 10);
    const victim = run.result.flows.find((f) => f.protocol === 'https' && f.bytesS2c > 200_000)!;
    let flipped = false;
    await rewriteRecords(run.traffic, '.ctap', (record) => {
      if (flipped || record.type !== RecordType.Data || record.flowId.toString('hex') !== victim.flowId || record.dir !== 1 || record.offset < 100_000n) return record;
      flipped = true;
      const payload = Buffer.from(record.payload);
      payload[Math.floor(payload.length / 2)]! ^= 0x40;
      return { ...record, payload };
    });
    expect(flipped, `a DATA record of flow ${victim.flowId} past 100 kB to flip a bit in`).to.equal(true);
    const out = join(run.dir, 'clear.pcap');
    const summary = await stitch(run, [`pcap://${out}?variant=cleartext`]);
    expect(summary).to.match(/tls\s+\d+ flows decrypted \(1 lost part of a direction\), none undecryptable, 1 records failed authentication/);
    const others = run.result.flows.filter((f) => f.protocol !== 'h2' && f !== victim);
    const got = await http1Objects(out);
    expect(got).to.include.members(hashesOf(others));
  });
});
