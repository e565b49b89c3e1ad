import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPcapFile } from '../../stitcher/export/pcap.js';
import { capinfos, epochText, expectedFrame, makePackets, tsharkFrames } from './capture-tools.js';

describe('export/pcap', () => {
  let folder: string;
  before(async () => { folder = await mkdtemp(join(tmpdir(), 'cloudtap-pcap-')); });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  it('writes the right time for runs of packets that share one, and for a time that comes back', async () => {
    // The writer keeps the last time split up: runs, changes and a return to an earlier time must all come out exact.
    const base = makePackets(12, 1_795_620_900_999_999_998n, { seed: 11, maxStepNs: 1 });
    const times = [0n, 0n, 0n, 1n, 1n, 2_000_000_001n, 2_000_000_001n, 0n, 1n, 1n, (1n << 32n), (1n << 32n)];
    const packets = base.map((packet, i) => ({ ...packet, tsNs: 1_795_620_900_999_999_998n + times[i]! }));
    const path = join(folder, 'runs.pcap');
    const file = createPcapFile(path, { chunkBytes: 4096 });
    for (const packet of packets) file.write(packet);
    await file.close();

    expect(await tsharkFrames(path)).to.deep.equal(packets.map(expectedFrame));
  });

  it('writes frames that tshark reads back with exact nanosecond times and bytes', async () => {
    // 2026-11-25 and steps of up to 3 s: the nanosecond field takes every kind of value.
    const packets = makePackets(300, 1_795_620_900_000_000_001n, { seed: 7 });
    const path = join(folder, 'frames.pcap');
    const file = createPcapFile(path, { chunkBytes: 16384 });
    await file.ready();
    for (const packet of packets) file.write(packet);
    await file.close();

    expect(await tsharkFrames(path)).to.deep.equal(packets.map(expectedFrame));
  });

  it('is a nanosecond pcap of Ethernet with snap length 262144, as capinfos sees it', async () => {
    const packets = makePackets(50, 1_700_000_000_999_999_999n, { seed: 3 });
    const path = join(folder, 'info.pcap');
    const file = createPcapFile(path);
    for (const packet of packets) file.write(packet);
    await file.close();

    const info = await capinfos(path);
    expect(info.get('File type')).to.equal('nsecpcap');
    expect(info.get('File encapsulation')).to.equal('ether');
    expect(info.get('Number of packets')).to.equal('50');
    expect(info.get('Packet size limit')).to.equal('file hdr: 262144 bytes');
    expect(info.get('First packet time')).to.match(/\.999999999$/);
    const bytes = packets.reduce((sum, p) => sum + p.header.length + p.payload.length, 0);
    expect(info.get('Data size')).to.equal(`${bytes} bytes`);
    expect((await readFile(path)).length).to.equal(24 + 16 * 50 + bytes);
  });

  it('cuts frames longer than the snap length and keeps their original length', async () => {
    const [packet] = makePackets(1, 1_000_000_000_000_000_000n, { seed: 11 });
    const long = { ...packet!, payload: Buffer.alloc(500, 0xab) };
    const path = join(folder, 'cut.pcap');
    const file = createPcapFile(path, { snapLength: 100 });
    file.write(long);
    await file.close();

    const [frame] = await tsharkFrames(path);
    const whole = Buffer.concat([long.header, long.payload]);
    expect(frame).to.deep.equal({
      epoch: epochText(long.tsNs),
      length: whole.length,
      capturedLength: 100,
      hex: whole.subarray(0, 100).toString('hex'),
    });
  });
});
