/**
 * Bad input through the CLI: a damaged object is reported (name, offset, what)
 * and skipped, the other objects still come out whole; a wrong call is one line
 * and a non-zero exit, never a stack trace.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, readdir, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { cloudtap } from '../support/cli.js';

interface Bucket {
  readonly dir: string;
  readonly bucket: string;
  readonly result: GenerateResult;
}

/** A small plain-HTTP run whose traffic objects can be damaged one at a time. */
async function freshBucket(): Promise<Bucket> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-bad-'));
  const bucket = join(dir, 'bucket');
  const result = await generateTraffic({
    traffic: new LocalFolderStore(bucket), flows: 6, gateways: 1, seed: 'bad', httpsShare: 0,
    bodyBytes: [60_000], objectBytes: 64 * 1024, codec: 0,
  });
  return { dir, bucket, result };
}

async function trafficFiles(bucket: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ctap')) files.push(path);
    }
  }
  await walk(bucket);
  return files.sort();
}

async function stitch(run: Bucket): Promise<{ code: number | null; stdout: string; logs: Record<string, unknown>[] }> {
  const output = join(run.dir, `out-${Date.now()}.pcap`);
  const result = await cloudtap(['stitch', '--source', `file://${run.bucket}`, '--output', `pcap://${output}`, '--once', '--quiet']);
  const logs = result.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: result.code, stdout: result.stdout, logs };
}

function damageLogs(logs: Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter((log) => log.message === 'damaged object');
}

describe('e2e: damaged objects are reported and skipped', function () {
  this.timeout(120_000);

  const cases: [string, (bytes: Buffer) => Buffer, RegExp][] = [
    ['truncated mid-block', (b) => b.subarray(0, Math.floor(b.length / 2)), /truncat|cut off|ends? (early|before)/i],
    ['a flipped bit in a block', (b) => { const c = Buffer.from(b); c[200]! ^= 0x10; return c; }, /crc|checksum/i],
    ['a block length that lies', (b) => { const c = Buffer.from(b); const at = c.indexOf('BLK1') + 8; c.writeUInt32LE(c.readUInt32LE(at) + 1000, at); return c; }, /stored_len|length|crc|truncat/i],
    ['a newer major version', (b) => { const c = Buffer.from(b); c.writeUInt16LE(2, 4); return c; }, /version 2/],
  ];

  for (const [name, damage, problem] of cases) {
    it(`${name}: one report naming the object, the other objects intact`, async () => {
      const run = await freshBucket();
      const files = await trafficFiles(run.bucket);
      expect(files.length).to.be.at.least(3);
      const victim = files[1]!;
      await writeFile(victim, damage(await readFile(victim)));
      const { code, stdout, logs } = await stitch(run);
      expect(code).to.equal(0);
      const reports = damageLogs(logs);
      expect(reports.length).to.be.at.least(1);
      expect(String(reports[0]!.object)).to.equal(victim.slice(run.bucket.length + 1));
      expect(String(reports[0]!.problem)).to.match(problem);
      expect(stdout).to.match(new RegExp(`objects\\s+${files.length} read .*, 1 damaged`));
      expect(stdout).to.match(new RegExp(`flows\\s+${run.result.flows.length} opened`));
    });
  }

  it('an empty folder: nothing to do, a clean summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-empty-'));
    const { code, stdout } = await cloudtap(['stitch', '--source', `file://${dir}`, '--output', `pcap://${dir}/out.pcap`, '--once', '--quiet']);
    expect(code).to.equal(0);
    expect(stdout).to.match(/objects\s+0 read/);
  });
});

describe('e2e: wrong calls are one line and a non-zero exit', function () {
  this.timeout(60_000);

  async function expectOneLineError(args: string[], code: number, pattern: RegExp): Promise<void> {
    const result = await cloudtap(args);
    expect(result.code, result.stderr).to.equal(code);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^cloudtap: /);
    expect(lines[0]).to.match(pattern);
    expect(result.stderr).not.to.match(/\n\s+at /);
  }

  it('a missing source folder', async () => {
    await expectOneLineError(['stitch', '--source', 'file:///nonexistent/tap', '--output', 'pcap:///tmp/x.pcap', '--once'], 1, /\/nonexistent\/tap/);
  });

  it('a source URL of an unknown kind', async () => {
    await expectOneLineError(['stitch', '--source', 'ftp://host/x', '--output', 'pcap:///tmp/x.pcap', '--once'], 1, /ftp:/);
  });

  it('a relative output path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-src-'));
    await expectOneLineError(['stitch', '--source', `file://${dir}`, '--output', 'pcap://out.pcap', '--once'], 1, /output/);
  });

  it('an output folder that does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-src-'));
    await expectOneLineError(['stitch', '--source', `file://${dir}`, '--output', `pcap://${dir}/missing/x.pcap`, '--once'], 1, /missing/);
  });

  it('an output that cannot be written', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'cloudtap-src-'));
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    // root writes anywhere: /proc is unwritable for everyone
    await expectOneLineError(['stitch', '--source', `file://${dir}`, '--output', 'pcap:///proc/cloudtap.pcap', '--once'], 1, /\/proc\/cloudtap\.pcap/);
  });

  it('a missing required flag and an unknown flag', async () => {
    await expectOneLineError(['stitch', '--output', 'pcap:///tmp/x.pcap'], 2, /--source/);
    await expectOneLineError(['stitch', '--source', 'file:///tmp', '--output', 'pcap:///tmp/x.pcap', '--bogus'], 2, /bogus/);
    await expectOneLineError(['frobnicate'], 2, /unknown command/);
  });
});
