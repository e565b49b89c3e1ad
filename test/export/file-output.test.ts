import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileOutput } from '../../stitcher/export/file-output.js';
import { parseFileOutputUrl } from '../../stitcher/export/file-url.js';
import { capinfos, expectedFrame, makePackets, tsharkFrames } from './capture-tools.js';

async function openError(url: string): Promise<string> {
  try {
    const output = await openFileOutput(url);
    await output.close();
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return (error as Error).message;
  }
  throw new Error(`openFileOutput(${url}) did not fail`);
}

describe('export/file-output', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cloudtap-output-'));
    await writeFile(join(folder, 'plain-file'), '');
    await mkdir(join(folder, 'sub'));
  });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  describe('URLs', () => {
    it('reads a file, a folder and the rotation limits with their suffixes', () => {
      expect(parseFileOutputUrl('pcap:///tmp/a%20b.pcap')).to.deep.equal({
        format: 'pcap', path: '/tmp/a b.pcap', folder: false, rotate: false, rotateBytes: 0, rotateSeconds: 0,
      });
      expect(parseFileOutputUrl('pcapng:///tmp/out/')).to.deep.include({
        format: 'pcapng', path: '/tmp/out/', folder: true, rotate: true, rotateBytes: 100 * 2 ** 20, rotateSeconds: 300,
      });
      expect(parseFileOutputUrl('pcapng:///tmp/out/?rotate-size=50M&rotate-seconds=60')).to.deep.include({
        rotateBytes: 50 * 2 ** 20, rotateSeconds: 60,
      });
      expect(parseFileOutputUrl('pcap:///tmp/x.pcap?rotate-size=3k')).to.deep.include({
        rotate: true, rotateBytes: 3072, rotateSeconds: 300,
      });
      expect(parseFileOutputUrl('pcap:///tmp/x/?rotate-size=2G&rotate-seconds=0')).to.deep.include({
        rotateBytes: 2 * 2 ** 30, rotateSeconds: 0,
      });
    });
  });

  describe('errors: one line that names the URL and the fault', () => {
    const cases: [string, (root: string) => string, RegExp][] = [
      ['a relative path', () => 'pcap:out/file.pcap', /the path must be absolute/],
      ['a host instead of a path', () => 'pcapng://out/file.pcapng', /the path must be absolute/],
      ['an unknown scheme', (root) => `pcapx://${root}/a.pcap`, /unknown scheme 'pcapx' \(expected pcap or pcapng\)/],
      ['not a URL', () => '/abs/file.pcap', /not a URL/],
      ['an unknown query parameter', (root) => `pcap://${root}/?rotate-count=3`, /unknown query parameter 'rotate-count'/],
      ['a size that is not one', (root) => `pcap://${root}/?rotate-size=10X`, /rotate-size '10X' is not a size/],
      ['seconds that are not', (root) => `pcap://${root}/?rotate-seconds=1.5`, /rotate-seconds '1.5' is not a whole number/],
      ['a missing parent folder', (root) => `pcap://${root}/missing/a.pcap`, /parent folder .*\/missing does not exist$/],
      ['a missing folder', (root) => `pcapng://${root}/missing/`, /folder .*\/missing\/ does not exist$/],
      ['a parent that is a file', (root) => `pcap://${root}/plain-file/a.pcap`, /parent folder .*\/plain-file is not a folder$/],
      ['a file path that is a folder', (root) => `pcap://${root}/sub`, /\/sub is a folder \(end the URL with \/ /],
      ['an unwritable file', () => 'pcap:///sys/kernel/cloudtap.pcap', /cannot open \/sys\/kernel\/cloudtap.pcap for writing: E[A-Z]+/],
      ['an unwritable folder', () => 'pcapng:///sys/kernel/', /folder \/sys\/kernel\/ is not writable: E[A-Z]+/],
    ];
    for (const [what, urlIn, message] of cases) {
      it(`rejects ${what}`, async () => {
        const url = urlIn(folder);
        const text = await openError(url);
        expect(text.startsWith(`output ${url}: `), text).to.equal(true);
        expect(text).to.match(message);
        expect(text).to.not.include('\n');
      });
    }

    it('rejects close with the file name when the disk fills up', async () => {
      const output = await openFileOutput('pcap:///dev/full');
      for (const packet of makePackets(2000, 1_700_000_000_000_000_000n)) output.write(packet);
      let failure: unknown;
      await output.close().catch((error: unknown) => { failure = error; });
      expect(String(failure)).to.match(/^Error: cannot write \/dev\/full at byte \d+: ENOSPC: no space left on device$/);
    });
  });

  describe('one file', () => {
    it('creates the file at open, never rotates, and counts what it wrote', async () => {
      const path = join(folder, 'single.pcapng');
      const output = await openFileOutput(`pcapng://${path}`);
      expect(await readdir(folder)).to.include('single.pcapng');
      expect(typeof output.addSecrets).to.equal('function');
      // 20 minutes of capture time and far more than one chunk: still one file.
      const packets = makePackets(1000, 1_700_000_000_000_000_000n, { maxStepNs: 2_400_000_000 });
      for (const packet of packets) if (!output.write(packet)) await output.drain();
      await output.close();

      expect(output.paths).to.deep.equal([path]);
      const bytes = packets.reduce((sum, p) => sum + p.header.length + p.payload.length, 0);
      expect(output.stats).to.deep.include({ packets: 1000, bytes, files: 1 });
      expect((await capinfos(path)).get('Number of packets')).to.equal('1000');
      expect(await tsharkFrames(path)).to.deep.equal(packets.map(expectedFrame));
    });

    it('gives pcap outputs no secrets method, so secrets never go astray', async () => {
      const output = await openFileOutput(`pcap://${join(folder, 'nosecrets.pcap')}`);
      expect(output.addSecrets).to.equal(undefined);
      await output.close();
    });
  });

  describe('files that hold secrets, and files of an earlier run', () => {
    const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8);

    it('creates pcapng files 0600, one file or rotated, and narrows a file that was there with a wider mode', async () => {
      const before = join(folder, 'was-0644.pcapng');
      await writeFile(before, 'old');
      await chmod(before, 0o644);
      const single = await openFileOutput(`pcapng://${before}`);
      await single.close();
      const rotatedFolder = join(folder, 'rotated-secrets');
      await mkdir(rotatedFolder);
      const rotated = await openFileOutput(`pcapng://${rotatedFolder}/?rotate-size=4K`);
      for (const packet of makePackets(40, 1_700_000_000_000_000_000n)) if (!rotated.write(packet)) await rotated.drain();
      await rotated.close();
      expect(rotated.paths.length, 'files rotated').to.be.greaterThan(1);
      const modes = await Promise.all([before, ...rotated.paths].map(modeOf));
      expect(modes).to.deep.equal(modes.map(() => '600'));
      const pcap = join(folder, 'plain.pcap');
      await (await openFileOutput(`pcap://${pcap}`)).close();
      expect(await modeOf(pcap), 'pcap holds no secrets: the umask decides').to.not.equal('600');
    });

    it('never truncates a rotated file a run before left: a file of the same name gets the next free name', async () => {
      const rotatedFolder = join(folder, 'restart');
      await mkdir(rotatedFolder);
      const packets = makePackets(30, 1_700_000_000_000_000_000n);
      const first = await openFileOutput(`pcap://${rotatedFolder}/?rotate-size=4K`);
      for (const packet of packets) if (!first.write(packet)) await first.drain();
      await first.close();
      const kept = await Promise.all(first.paths.map((path) => readFile(path)));
      // A restart re-reads the same objects: the same packets, so the same names.
      const second = await openFileOutput(`pcap://${rotatedFolder}/?rotate-size=4K`);
      for (const packet of packets) if (!second.write(packet)) await second.drain();
      await second.close();
      expect(second.paths.length).to.equal(first.paths.length);
      for (const [i, path] of second.paths.entries()) {
        expect(path, 'a new name').to.not.equal(first.paths[i]);
        expect(path).to.match(/\.1\.pcap$/);
      }
      const after = await Promise.all(first.paths.map((path) => readFile(path)));
      after.forEach((bytes, i) => expect(bytes, `${first.paths[i]} unchanged`).to.deep.equal(kept[i]!));
      expect((await readdir(rotatedFolder)).length).to.equal(2 * first.paths.length);
    });
  });
});
