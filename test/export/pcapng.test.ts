import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPcapngFile } from '../../stitcher/export/pcapng.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { projectRoot } from '../support/paths.js';
import { capinfos, expectedFrame, makePackets, runTool, tsharkFrames } from './capture-tools.js';

interface Block {
  readonly type: number;
  readonly bytes: Buffer;
}

/** Splits a little-endian pcapng file into its blocks, checking both length fields. */
function blocksOf(file: Buffer): Block[] {
  const blocks: Block[] = [];
  for (let offset = 0; offset < file.length;) {
    const length = file.readUInt32LE(offset + 4);
    expect(length % 4, `block at ${offset} is padded to 32 bits`).to.equal(0);
    expect(file.readUInt32LE(offset + length - 4), `trailing length of block at ${offset}`).to.equal(length);
    blocks.push({ type: file.readUInt32LE(offset), bytes: file.subarray(offset, offset + length) });
    offset += length;
  }
  return blocks;
}

/** The frames of a little-endian microsecond pcap (what tcpdump writes). */
function microsecondPcapFrames(file: Buffer): Packet[] {
  expect(file.readUInt32LE(0)).to.equal(0xa1b2c3d4);
  const packets: Packet[] = [];
  for (let offset = 24; offset < file.length;) {
    const tsNs = BigInt(file.readUInt32LE(offset)) * 1_000_000_000n + BigInt(file.readUInt32LE(offset + 4)) * 1000n;
    const length = file.readUInt32LE(offset + 8);
    const frame = file.subarray(offset + 16, offset + 16 + length);
    packets.push({ tsNs, header: frame.subarray(0, 54), payload: frame.subarray(54) });
    offset += 16 + length;
  }
  return packets;
}

const keyLog =
  'CLIENT_RANDOM 5f1e8a6d0c2b4e3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f '
  + '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n';

describe('export/pcapng', () => {
  let folder: string;
  before(async () => { folder = await mkdtemp(join(tmpdir(), 'cloudtap-pcapng-')); });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  it('writes the right time for runs of packets that share one, and for a time that comes back', async () => {
    // The writer keeps the last time split up: runs, changes and a return to an earlier time must all come out exact.
    const base = makePackets(12, 1_795_620_900_999_999_998n, { seed: 11, maxStepNs: 1 });
    const times = [0n, 0n, 0n, 1n, 1n, 2_000_000_001n, 2_000_000_001n, 0n, 1n, 1n, (1n << 32n), (1n << 32n)];
    const packets = base.map((packet, i) => ({ ...packet, tsNs: 1_795_620_900_999_999_998n + times[i]! }));
    const path = join(folder, 'runs.pcapng');
    const file = createPcapngFile(path, { chunkBytes: 4096 });
    for (const packet of packets) file.write(packet);
    await file.close();

    expect(await tsharkFrames(path)).to.deep.equal(packets.map(expectedFrame));
  });

  it('writes frames that tshark reads back with exact nanosecond times and bytes', async () => {
    // Steps of up to 3 s cross many 2^32 ns boundaries, where the high word changes.
    const packets = makePackets(300, 1_795_620_900_000_000_001n, { seed: 5 });
    const path = join(folder, 'frames.pcapng');
    const file = createPcapngFile(path, { chunkBytes: 16384 });
    await file.ready();
    file.addSecrets?.(keyLog);
    for (const packet of packets) file.write(packet);
    await file.close();

    expect(await tsharkFrames(path)).to.deep.equal(packets.map(expectedFrame));
  });

  it('declares Ethernet, nanosecond resolution and one decryption secrets block to capinfos', async () => {
    const packets = makePackets(20, 1_700_000_000_000_000_000n, { seed: 9 });
    const path = join(folder, 'info.pcapng');
    const file = createPcapngFile(path);
    file.addSecrets?.(keyLog);
    for (const packet of packets) file.write(packet);
    await file.close();

    const info = await capinfos(path);
    expect(info.get('File type')).to.equal('pcapng');
    expect(info.get('File encapsulation')).to.equal('ether');
    expect(info.get('File timestamp precision')).to.equal('nanoseconds (9)');
    expect(info.get('Number of packets')).to.equal('20');
    expect(info.get('Number of interfaces in file')).to.equal('1');
    expect(info.get('Number of decryption secrets in file')).to.equal('1');
  });

  it('writes the same Decryption Secrets Block as editcap --inject-secrets', async () => {
    const packets = makePackets(3, 1_700_000_000_000_000_000n, { seed: 2 });
    const plain = join(folder, 'plain.pcapng');
    const ours = join(folder, 'ours.pcapng');
    const theirs = join(folder, 'theirs.pcapng');
    const keys = join(folder, 'keys.log');
    const lines = keyLog + keyLog.replace('5f1e', '6a2f').slice(0, -1); // odd length, no final newline
    await writeFile(keys, lines);
    for (const [path, secrets] of [[plain, ''], [ours, lines]] as const) {
      const file = createPcapngFile(path);
      if (secrets) file.addSecrets?.(secrets);
      for (const packet of packets) file.write(packet);
      await file.close();
    }
    await runTool('editcap', ['--inject-secrets', `tls,${keys}`, plain, theirs]);

    const secretsBlock = (blocks: Block[]): Buffer | undefined => blocks.find((b) => b.type === 0x0a)?.bytes;
    const expected = secretsBlock(blocksOf(await readFile(theirs)));
    expect(expected, 'editcap wrote a DSB').to.not.equal(undefined);
    expect(secretsBlock(blocksOf(await readFile(ours)))).to.deep.equal(expected);
  });

  it('places each secrets block before the packets written after it', async () => {
    const [first, second] = makePackets(2, 1_700_000_000_000_000_000n, { seed: 4 });
    const path = join(folder, 'order.pcapng');
    const file = createPcapngFile(path);
    file.write(first!);
    file.addSecrets?.(keyLog);
    file.write(second!);
    await file.close();

    const types = blocksOf(await readFile(path)).map((b) => b.type);
    expect(types).to.deep.equal([0x0a0d0d0a, 0x1, 0x6, 0xa, 0x6]);
    expect(await tsharkFrames(path)).to.deep.equal([first!, second!].map(expectedFrame));
  });

  it('lets tshark decrypt TLS 1.3 with the keys of its secrets block alone', async () => {
    const fixtures = join(projectRoot, 'test', 'export', 'fixtures');
    const packets = microsecondPcapFrames(await readFile(join(fixtures, 'tls13-loopback.pcap')));
    const keys = await readFile(join(fixtures, 'tls13-loopback.keys'), 'utf8');
    const requests = async (withKeys: boolean): Promise<string> => {
      const path = join(folder, `tls-${withKeys}.pcapng`);
      const file = createPcapngFile(path);
      if (withKeys) file.addSecrets?.(keys);
      for (const packet of packets) file.write(packet);
      await file.close();
      return (await runTool('tshark', ['-r', path, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'])).trim();
    };

    expect(await requests(true)).to.equal('/cloudtap-check');
    expect(await requests(false), 'no keys, no clear text').to.equal('');
  });
});
