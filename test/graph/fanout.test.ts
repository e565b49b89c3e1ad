import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileOutput } from '../../stitcher/export/file-output.js';
import type { PacketSink } from '../../stitcher/export/sink.js';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import { TcpSynthesizer } from '../../stitcher/flow/tcp-synthesizer.js';
import { CloseReason, Direction, type CtapRecord } from '../../stitcher/format/records.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { Fanout } from '../../stitcher/graph/fanout.js';
import { close, data, flowId, open } from '../flow/records.js';

const SECOND = 1_000_000_000n;

/** An IPv4 and an IPv6 exchange, both directions, closed by FIN, with payloads up to 5000 bytes per record. */
function records(): CtapRecord[] {
  const out: CtapRecord[] = [];
  for (const [n, ipVersion] of [[1, 4], [2, 6]] as const) {
    const id = flowId(n);
    let ts = BigInt(n) * SECOND;
    out.push(open(id, { tsNs: ts, ipVersion }));
    const sent = [0, 0];
    for (let i = 0; i < 40; i++) {
      const dir = i % 3 === 0 ? Direction.ClientToServer : Direction.ServerToClient;
      const payload = randomBytes(1 + ((i * 797) % 5000));
      ts += 7_000_000n;
      out.push(data(id, dir, sent[dir]!, payload, ts));
      sent[dir]! += payload.length;
    }
    out.push(close(id, CloseReason.FinFromClient, sent[0]!, sent[1]!, ts + 1_000_000n));
  }
  return out;
}

/** One set of records for every run, so that runs can be compared byte for byte. */
const RECORDS = records();

/** The same sink with only the Packet interface, so that the fanout cannot write in place. */
function packetsOnly(sink: PacketSink): PacketSink {
  return {
    description: sink.description,
    write: (packet: Packet) => sink.write(packet),
    drain: () => sink.drain(),
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}

async function stitchInto(url: string, options: { snapLength?: number }, inPlace: boolean): Promise<{ fanout: Fanout; synthesizer: TcpSynthesizer }> {
  const output = await openFileOutput(url, options);
  const fanout = new Fanout([inPlace ? output : packetsOnly(output)]);
  const synthesizer = new TcpSynthesizer(fanout);
  const table = new FlowTable(synthesizer);
  const all = RECORDS;
  for (let i = 0; i < all.length; i += 10) table.ingestBlock('gw-test', all.slice(i, i + 10));
  table.endOfObject('gw-test');
  table.closeAll();
  await output.close();
  return { fanout, synthesizer };
}

/** Every file of a folder output, in name order, concatenated. */
function folderBytes(folder: string): Buffer {
  return Buffer.concat(readdirSync(folder).sort().map((name) => readFileSync(join(folder, name))));
}

describe('pipeline/fanout', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cloudtap-fanout-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['pcap', 'pcapng'] as const) {
    it(`writes ${format} frames in place byte for byte as the Packet path does, frames cut by the snap length included`, async () => {
      const snapLength = 3000; // some segments are longer: those go through write() as Packets
      const inPlace = await stitchInto(`${format}://${join(dir, `in-place.${format}`)}`, { snapLength }, true);
      const packets = await stitchInto(`${format}://${join(dir, `packets.${format}`)}`, { snapLength }, false);
      const a = readFileSync(join(dir, `in-place.${format}`));
      const b = readFileSync(join(dir, `packets.${format}`));
      expect(a.length).to.be.greaterThan(50_000);
      // pcapng section headers carry no time, pcap file headers neither: the files are equal whole.
      expect(a).to.deep.equal(b);
      expect(inPlace.fanout.counters).to.deep.equal(packets.fanout.counters);
      expect(inPlace.fanout.counters[0]!.packets).to.equal(inPlace.synthesizer.stats.packets);
      expect(inPlace.fanout.counters[0]!.bytes).to.equal(inPlace.synthesizer.stats.bytes);
    });
  }

  it('rotates in-place frames by size and by packet time into the same files as Packets', async () => {
    const names: string[][] = [];
    for (const way of ['in-place', 'packets']) {
      const folder = join(dir, way);
      mkdirSync(folder);
      await stitchInto(`pcap://${folder}/?rotate-size=20K&rotate-seconds=1`, {}, way === 'in-place');
      names.push(readdirSync(folder).sort());
    }
    expect(names[0]!.length).to.be.greaterThan(3);
    expect(names[0]).to.deep.equal(names[1]);
    expect(folderBytes(join(dir, 'in-place'))).to.deep.equal(folderBytes(join(dir, 'packets')));
  });
});
