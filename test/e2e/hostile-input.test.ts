/**
 * The hostile-input suite (issue 13): a crafted traffic or key object stitched
 * beside good traffic with `--max-buffer 64M`, measured from outside the process.
 * Peak RSS under 512 MB, under 60 s, under 1 MB of logs, every HTTP object of the
 * good traffic intact, what was given up counted in the summary, and nothing
 * invalid in the key log outputs.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { parseKeyLogLine } from '../../stitcher/tls/keylog.js';
import { cloudtapBin } from '../support/cli.js';
import {
  deflateBomb, descendingGaps, earlyDataFlood, floodLine, keyFlood, malformedKeyLines, offsetsNear2p64, openFlood,
  type CraftedObject, type CraftedPlace,
} from '../support/hostile-objects.js';
import { haveGnuTime, measuredRun } from '../support/measured-run.js';
import { haveTshark } from '../support/tshark.js';
import { expectHttpObjects } from './capture-judge.js';

const LIMITS = { rssBytes: 512 * 1024 * 1024, seconds: 60, logBytes: 1024 * 1024 };

interface Case {
  readonly name: string;
  readonly build: (place: CraftedPlace) => CraftedObject;
  /** What the run summary must say about what was given up. */
  readonly summary: RegExp;
  readonly exportsKeys: boolean;
  /** A warning the run logs about the object, once. */
  readonly warning?: string;
}

const CASES: readonly Case[] = [
  {
    name: 'one TLS_KEYS record of a million malformed lines (a 2 KB object)',
    build: (place) => malformedKeyLines(place, 1_000_000),
    summary: /keys\s+0 key log lines, 1,000,000 invalid dropped, 0 objects cut/,
    exportsKeys: false,
    warning: 'key log lines dropped',
  },
  {
    name: 'one TLS_KEYS record of four million malformed lines (the largest block)',
    build: (place) => malformedKeyLines(place, 4_000_000),
    summary: /keys\s+0 key log lines, 4,000,000 invalid dropped, 0 objects cut/,
    exportsKeys: false,
    warning: 'key log lines dropped',
  },
  {
    name: 'a key flood: a million valid, distinct lines in one object (170 MB of key log)',
    build: (place) => keyFlood(place, 1_000_000),
    summary: /keys\s+[\d,]+ key log lines, 0 invalid dropped, 1 objects cut at the per-object limit/,
    exportsKeys: true,
    warning: 'key log lines dropped',
  },
  {
    name: 'DATA for flows never opened: 50,000 records of 4 KiB zeros (a 200 MB flood in a 200 KB object)',
    build: (place) => earlyDataFlood(place, 50_000, 4096),
    summary: /dropped\s+50,000 records of flows never opened/,
    exportsKeys: false,
  },
  {
    name: 'half a million FLOW_OPEN records never closed',
    build: (place) => openFlood(place, 500_000),
    summary: /memory\s+[1-9][\d,]* flows closed and 0 early records dropped for the budget/,
    exportsKeys: false,
  },
  {
    name: '160,000 GAP records in descending offset order in one flow',
    build: (place) => descendingGaps(place, 160_000),
    summary: /holes\s+320,000 \(320,000 bytes: 160,000 lost by the gateway, 160,000 never arrived\)/,
    exportsKeys: false,
  },
  {
    name: 'offsets and lengths near 2^64',
    build: (place) => offsetsNear2p64(place),
    summary: /dropped\s+0 records of flows never opened \(0 bytes\), 0 after their flow closed \(0 bytes\), 3 invalid/,
    exportsKeys: false,
  },
  {
    name: 'a deflate bomb: 16 blocks at the largest raw_len, each inflating to 1 GiB',
    build: (place) => deflateBomb(place, 16, 1024 ** 3),
    summary: /objects\s+[\d,]+ read \([^)]*\), 1 damaged/,
    exportsKeys: false,
    warning: 'damaged object',
  },
];

describe('e2e: hostile traffic and key objects beside good traffic (--max-buffer 64M)', function () {
  this.timeout(300_000);
  let dir: string;
  let bucket: string;
  let good: GenerateResult;

  before(async function () {
    if (!haveTshark() || !haveGnuTime()) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'cloudtap-hostile-'));
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
      const object = hostile.build({ gateway: 'hostile', createdNs: good.startNs });
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
        if (hostile.warning !== undefined) {
          const warnings = run.logHead.split('\n').filter((line) => line.includes(hostile.warning!));
          expect(warnings.length, 'warnings for the object').to.be.within(1, 17);
          expect(JSON.parse(warnings[0]!)).to.include({ object: object.key });
        }
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
