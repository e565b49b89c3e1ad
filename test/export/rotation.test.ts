import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileOutput } from '../../stitcher/export/file-output.js';
import type { FileOutput } from '../../stitcher/export/file-output.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { capinfosEach, expectedFrame, makePackets, tsharkFramesOfAll } from './capture-tools.js';

async function writeAll(output: FileOutput, packets: readonly Packet[]): Promise<void> {
  for (const packet of packets) if (!output.write(packet)) await output.drain();
  await output.close();
}

/** `20261125T151500Z` for whole seconds since the epoch. */
function compactUtc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** tshark's `1764083700.123456789` as nanoseconds. */
function epochNs(epoch: string): bigint {
  return BigInt(epoch.replace('.', ''));
}

const keyLog = `CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`;

describe('export/rotation', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'cloudtap-rotation-')); });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  async function filesIn(folder: string): Promise<string[]> {
    return (await readdir(folder)).sort().map((name) => join(folder, name));
  }

  it('starts a new file before one would pass rotate-size; the files hold the input, each valid', async () => {
    const folder = join(root, 'by-size');
    await mkdir(folder);
    const output = await openFileOutput(`pcapng://${folder}/?rotate-size=20K&rotate-seconds=0`);
    output.addSecrets?.(keyLog);
    const packets = makePackets(300, 1_795_620_900_000_000_000n, { seed: 21 });
    await writeAll(output, packets);

    const files = await filesIn(folder);
    expect(files.length).to.be.greaterThan(5);
    expect(output.paths).to.deep.equal(files, 'names sort in the order the files were written');
    const reports = await capinfosEach(files);
    let fileBytes = 0;
    for (const file of files) {
      const size = (await stat(file)).size;
      fileBytes += size;
      expect(size, file).to.be.at.most(20 * 1024);
      const info = reports.get(file);
      expect(info?.get('File type'), file).to.equal('pcapng');
      expect(info?.get('Number of decryption secrets in file'), `${file} carries the keys`).to.equal('1');
      expect((await readFile(file)).includes(keyLog), `${file} holds the key log line`).to.equal(true);
    }
    const frames = await tsharkFramesOfAll(files, join(root, 'by-size.pcapng'));
    expect(frames).to.deep.equal(packets.map(expectedFrame));
    expect(output.stats).to.deep.include({ packets: 300, files: files.length, fileBytes });
  });

  it('starts a new file once capture time reaches rotate-seconds, named by its first packet', async () => {
    const folder = join(root, 'by-time');
    await mkdir(folder);
    const output = await openFileOutput(`pcap://${folder}/?rotate-seconds=10`);
    const packets = makePackets(200, 1_795_620_900_500_000_000n, { seed: 22, maxStepNs: 1_500_000_000 });
    await writeAll(output, packets);

    const files = await filesIn(folder);
    expect(files.length).to.be.greaterThan(5);
    const reports = await capinfosEach(files);
    let previousStartNs: bigint | undefined;
    for (const [index, file] of files.entries()) {
      const info = reports.get(file);
      expect(Number(info?.get('Number of packets')), file).to.be.greaterThan(0);
      const firstNs = epochNs(info?.get('First packet time') as string);
      const lastNs = epochNs(info?.get('Last packet time') as string);
      expect(lastNs - firstNs < 10_000_000_000n, `${file} spans less than 10 s: ${lastNs - firstNs} ns`).to.equal(true);
      if (previousStartNs !== undefined) {
        expect(firstNs - previousStartNs >= 10_000_000_000n, `${file} starts only when 10 s are up: ${firstNs - previousStartNs} ns after the last`).to.equal(true);
      }
      previousStartNs = firstNs;
      const name = `cloudtap-${compactUtc(Number(firstNs / 1_000_000_000n))}-${String(index + 1).padStart(6, '0')}.pcap`;
      expect(file).to.equal(join(folder, name));
    }
    const frames = await tsharkFramesOfAll(files, join(root, 'by-time.pcapng'));
    expect(frames).to.deep.equal(packets.map(expectedFrame));
  });

  it('rotates a single-file URL only when asked, next to the file and named after it', async () => {
    const folder = join(root, 'single');
    await mkdir(folder);
    const output = await openFileOutput(`pcap://${folder}/trace.pcap?rotate-size=8K`);
    const packets = makePackets(60, 1_795_620_900_000_000_000n, { seed: 23 });
    await writeAll(output, packets);

    const names = (await readdir(folder)).sort();
    expect(names.length).to.be.greaterThan(2);
    for (const name of names) expect(name).to.match(/^trace-\d{8}T\d{6}Z-\d{6}\.pcap$/);
    const frames = await tsharkFramesOfAll(names.map((name) => join(folder, name)), join(root, 'single.pcapng'));
    expect(frames).to.deep.equal(packets.map(expectedFrame));
  });

  it('writes no file into a folder until the first packet arrives', async () => {
    const folder = join(root, 'idle');
    await mkdir(folder);
    const output = await openFileOutput(`pcapng://${folder}/`);
    await output.close();
    expect(await readdir(folder)).to.deep.equal([]);
    expect(output.stats.files).to.equal(0);
  });
});
