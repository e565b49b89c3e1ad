/**
 * TLS end to end with another stack: `openssl s_client` against `openssl
 * s_server -HTTP` (keys from `-keylogfile`), through the generator's tapping
 * relay and the CLI. Every suite OpenSSL 3 offers that the stitcher decrypts:
 * TLS 1.3 (three suites), TLS 1.2 with ECDHE and RSA key exchange, GCM,
 * ChaCha20 and CBC with and without encrypt-then-MAC. tshark decrypts the
 * pcapng with no key file and reads the clear-text variant with no keys, every
 * object byte for byte; Suricata hashes every file of the clear-text variant.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { OPENSSL_SUITES } from '../../stitcher/generator/suites.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtapOk } from '../support/cli.js';
import { onPath } from '../support/run.js';
import { haveSuricata, runSuricata } from '../support/suricata.js';
import { exportedObjectHashes, haveTshark, tsharkFields } from '../support/tshark.js';
import { expectCleanCapture } from './capture-judge.js';

describe('e2e: openssl s_client and s_server sessions, decrypted by the CLI', function () {
  this.timeout(300_000);
  let result: GenerateResult;
  let summary: string;
  let dir: string | undefined;
  const files = { original: '', cleartext: '' };

  before(async function () {
    if (!haveTshark() || !onPath('openssl')) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'cloudtap-openssl-e2e-'));
    const traffic = join(dir, 'traffic');
    const keys = join(dir, 'keys');
    // Twice round the suites, and some plain HTTP flows beside them.
    result = await generateTraffic({
      traffic: new LocalFolderStore(traffic), keys: new LocalFolderStore(keys), flows: 30, gateways: 2, seed: 'openssl-e2e',
      httpsShare: 0.85, h2Share: 0, opensslShare: 1, bodyBytes: 400_000, keysTiming: 'after-traffic', codec: 0,
      objectBytes: 128 * 1024, shuffle: true, scatterShare: 0.25,
    });
    files.original = join(dir, 'original.pcapng');
    files.cleartext = join(dir, 'cleartext.pcap');
    ({ stdout: summary } = await cloudtapOk(['stitch', '--source', `file://${traffic}`, '--keys', `file://${keys}`, '--once', '--quiet',
      '--log-level', 'error', '--output', `pcapng://${files.original}`, '--output', `pcap://${files.cleartext}?variant=cleartext`]));
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const openssl = (): GenerateResult['flows'] => result.flows.filter((flow) => flow.stack === 'openssl');
  const hashes = (flows: GenerateResult['flows']): string[] => flows.flatMap((flow) => flow.objects.map((o) => o.sha256)).sort();

  it('ran every OpenSSL suite through openssl on both ends, and decrypted each flow', () => {
    const seen = openssl().map((flow) => `${flow.tls!.version} ${flow.tls!.cipher} etm=${String(flow.tls!.encryptThenMac)}`);
    const wanted = OPENSSL_SUITES.map((suite) => `${suite.version} ${suite.cipher} etm=${String(suite.encryptThenMac)}`);
    expect([...new Set(seen)].sort()).to.deep.equal([...new Set(wanted)].sort());
    expect(openssl().filter((flow) => !(flow.protocol === 'https' && flow.hasKeys))).to.deep.equal([]);
    expect(result.flows.filter((flow) => flow.protocol === 'http').length, 'plain HTTP flows beside them').to.be.greaterThan(0);
    expect(summary).to.match(new RegExp(`tls\\s+${openssl().length} flows decrypted \\(0 lost part of a direction\\), none undecryptable, 0 records failed`));
  });

  it('original: tshark decrypts the pcapng with the keys it embeds, every object byte for byte', async () => {
    expect(await exportedObjectHashes(files.original)).to.deep.equal(hashes(result.flows));
    const suites = await tsharkFields(files.original, 'tls.handshake.type == 2', ['tcp.dstport', 'tls.handshake.ciphersuite']);
    expect(suites.length, 'ServerHellos').to.equal(openssl().length);
  });

  it('clear text: tshark reads it with no keys at all, every object byte for byte, no TLS left', async () => {
    expect(await exportedObjectHashes(files.cleartext)).to.deep.equal(hashes(result.flows));
    expect(await tsharkFields(files.cleartext, 'tls', ['frame.number'])).to.deep.equal([]);
    const ports = await tsharkFields(files.cleartext, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['tcp.dstport']);
    expect(ports.map(([port]) => port).filter((port) => port === '80').length, 'every flow on port 80').to.equal(result.flows.length);
    await expectCleanCapture(files.cleartext, result);
  });

  it('clear text: Suricata, which cannot decrypt, logs every file with the right hash', async function () {
    if (!haveSuricata()) this.skip();
    const report = await runSuricata(files.cleartext);
    const expected = result.flows.flatMap((flow) => flow.objects).filter((o) => o.size > 0).map((o) => o.sha256).sort();
    const seen = report.files.filter((f) => f.state === 'CLOSED' && f.size > 0).map((f) => f.sha256).sort();
    expect(seen).to.deep.equal(expected);
    expect(report.counters.get('tcp.reassembly_gap')).to.equal(0);
    expect(report.counters.get('flow.tcp')).to.equal(result.flows.length);
  });
});
