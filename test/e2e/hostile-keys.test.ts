/**
 * The hostile-input suite, key objects (issue 13): a crafted key object stitched
 * beside good traffic with `--max-buffer 64M`, measured from outside the process.
 * Peak RSS under 512 MB, under 60 s, under 1 MB of logs, every HTTP object of the
 * good traffic intact, and nothing invalid in the key log outputs.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { parseKeyLogLine } from '../../stitcher/tls/keylog.js';
import { cloudtapBin } from '../support/cli.js';
import { floodLine, keyFlood, malformedKeyLines, type CraftedObject, type CraftedPlace } from '../support/hostile-objects.js';
import { haveGnuTime, measuredRun } from '../support/measured-run.js';
import { haveTshark } from '../support/tshark.js';
import { expectHttpObjects } from './capture-judge.js';

const LIMITS = { rssBytes: 512 * 1024 * 1024, seconds: 60, logBytes: 1024 * 1024 };

interface Case {
  readonly name: string;
  readonly build: (place: CraftedPlace) => CraftedObject;
  /** What the run summary must say about the key lines. */
  readonly summary: RegExp;
  readonly exportsKeys: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'one TLS_KEYS record of a million malformed lines (a 2 KB object)',
    build: (place) => malformedKeyLines(place, 1_000_000),
    summary: /keys\s+0 key log lines, 1,000,000 invalid dropped, 0 objects cut/,
    exportsKeys: false,
  },
  {
    name: 'one TLS_KEYS record of four million malformed lines (the largest block)',
    build: (place) => malformedKeyLines(place, 4_000_000),
    summary: /keys\s+0 key log lines, 4,000,000 invalid dropped, 0 objects cut/,
    exportsKeys: false,
  },
  {
    name: 'a key flood: a million valid, distinct lines in one object (170 MB of key log)',
    build: (place) => keyFlood(place, 1_000_000),
    summary: /keys\s+[\d,]+ key log lines, 0 invalid dropped, 1 objects cut at the per-object limit/,
    exportsKeys: true,
  },
];

describe('e2e: hostile key objects beside good traffic (--max-buffer 64M)', function () {
  this.timeout(300_000);
  let dir: string;
  let bucket: string;
  let good: GenerateResult;

  before(async function () {
    if (!haveTshark() || !haveGnuTime()) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'cloudtap-hostile-keys-'));
    bucket = join(dir, 'bucket');
    good = await generateTraffic({
      traffic: new LocalFolderStore(bucket), flows: 6, gateways: 1, seed: 'hostile-keys', httpsShare: 0,
      bodyBytes: [60_000], objectBytes: 64 * 1024, codec: 0,
    });
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const hostile of CASES) {
    it(`${hostile.name}: bounded memory, time and logs; the good traffic whole; nothing invalid exported`, async () => {
      const object = hostile.build({ gateway: 'hostile-keys', createdNs: good.startNs });
      const path = join(bucket, object.key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, object.bytes);
      const out = join(dir, 'out');
      await rm(out, { recursive: true, force: true });
      await mkdir(out);
      const keylog = join(out, 'keys.log');
      try {
        const run = await measuredRun(cloudtapBin, [
          'stitch', '--source', `file://${bucket}`, '--once', '--quiet', '--max-buffer', '64M',
          '--output', `pcap://${join(out, 'good.pcap')}`, '--output', `pcapng://${join(out, 'good.pcapng')}?keylog=${keylog}`,
        ], { timeoutMs: 180_000 });
        // The numbers the closing table quotes.
        console.log(`      ${hostile.name}: peak RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MB, ${run.seconds.toFixed(1)} s, ${run.logBytes} bytes of logs`);
        expect(run.code, run.logHead).to.equal(0);
        expect(run.peakRssBytes, 'peak RSS').to.be.below(LIMITS.rssBytes);
        expect(run.seconds, 'seconds').to.be.below(LIMITS.seconds);
        expect(run.logBytes, 'log bytes').to.be.below(LIMITS.logBytes);
        expect(run.stdout).to.match(hostile.summary);
        const warnings = run.logHead.split('\n').filter((line) => line.includes('key log lines dropped'));
        expect(warnings, 'one warning for the object').to.have.length(1);
        expect(JSON.parse(warnings[0]!)).to.include({ object: object.key });
        await expectHttpObjects(join(out, 'good.pcap'), good, () => true);
        await expectKeyLogValid(keylog, hostile.exportsKeys);
        expect(await readFile(join(out, 'good.pcapng'))).to.satisfy((pcapng: Buffer) => !pcapng.includes('x\nx\n'));
      } finally {
        await rm(path, { force: true });
      }
    });
  }
});

/** Every line of the key log output is a valid NSS key log line; a flood's lines are its own, in order. */
async function expectKeyLogValid(file: string, expectLines: boolean): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (!expectLines) {
    expect(text, 'no key log lines from an object of malformed ones').to.equal('');
    return;
  }
  const lines = text.split('\n').slice(0, -1);
  expect(lines.length).to.be.greaterThan(0);
  const invalid = lines.filter((line) => typeof parseKeyLogLine(line) === 'string');
  expect(invalid.length, 'invalid lines exported').to.equal(0);
  expect(`${lines[0]}\n`).to.equal(floodLine(0));
  expect(`${lines.at(-1)}\n`).to.equal(floodLine(lines.length - 1));
}
