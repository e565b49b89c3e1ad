import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import { TcpSynthesizer, type SynthesisOptions } from '../../stitcher/flow/tcp-synthesizer.js';
import { RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { keepPacket, writePcapFile } from '../support/pcap-file.js';
import { CloseReason, Direction, close, data, flowId, gap, open, type OpenOptions } from './records.js';
import { followTcpRaw, tsharkFields, type TsharkOptions } from '../support/tshark.js';

/** The payloads are random bytes: tshark judges TCP, not what an HTTP or TLS dissector makes of noise. */
const RAW_TCP: TsharkOptions = { extraArgs: ['--disable-protocol', 'http', '--disable-protocol', 'tls'] };
const fields = (file: string, names: readonly string[], filter = ''): Promise<string[][]> => tsharkFields(file, filter, names, RAW_TCP);

const C2S = Direction.ClientToServer;
const S2C = Direction.ServerToClient;
const SECOND = 1_000_000_000n;

interface FlowSpec {
  readonly n: number;
  readonly open?: OpenOptions;
  readonly up: Buffer;
  readonly down: Buffer;
  /** Undefined: the stitcher closes it (closeAll). */
  readonly reason?: CloseReason;
  /** Bytes of chunks the gateway wrote. @default 16384 */
  readonly chunk?: number;
  /** A GAP in the server's stream: [offset, length]. */
  readonly gapDown?: readonly [number, number];
  /** Bytes at the end of the server's stream that never arrive (FLOW_CLOSE still counts them). */
  readonly missingTail?: number;
}

/** CTAP records of a request/response exchange: the request, then the response, in chunks. */
function flowRecords(spec: FlowSpec): CtapRecord[] {
  const id = flowId(spec.n);
  const t0 = BigInt(spec.n) * SECOND;
  const records: CtapRecord[] = [open(id, { tsNs: t0, clientPort: 40000 + spec.n, ...spec.open })];
  const chunk = spec.chunk ?? 16384;
  let ts = t0 + 1_000_000n;
  const push = (dir: Direction, bytes: Buffer, skip?: readonly [number, number]) => {
    for (let at = 0; at < bytes.length; at += chunk) {
      ts += 10_000n;
      const end = Math.min(bytes.length, at + chunk);
      if (skip !== undefined && at < skip[0] + skip[1] && end > skip[0]) {
        if (at <= skip[0]) records.push(gap(id, dir, skip[0], skip[1], ts));
        if (at < skip[0]) records.push(data(id, dir, at, bytes.subarray(at, skip[0]), ts));
        if (end > skip[0] + skip[1]) records.push(data(id, dir, skip[0] + skip[1], bytes.subarray(skip[0] + skip[1], end), ts));
        continue;
      }
      records.push(data(id, dir, at, bytes.subarray(at, end), ts));
    }
  };
  push(C2S, spec.up);
  push(S2C, spec.down.subarray(0, spec.down.length - (spec.missingTail ?? 0)), spec.gapDown);
  if (spec.reason !== undefined) records.push(close(id, spec.reason, spec.up.length, spec.down.length, ts + 1_000_000n));
  return records;
}

/** Runs the flows through the flow table and the synthesiser; returns the packets, copied. */
function synthesize(specs: readonly FlowSpec[], options?: SynthesisOptions): Packet[] {
  const packets: Packet[] = [];
  const synthesizer = new TcpSynthesizer((packet) => packets.push(keepPacket(packet)), options);
  const table = new FlowTable(synthesizer);
  for (const spec of specs) {
    const records = flowRecords(spec);
    for (let i = 0; i < records.length; i += 50) table.ingestBlock('gw-test', records.slice(i, i + 50));
    table.endOfObject('gw-test');
  }
  table.closeAll();
  expect(synthesizer.stats.packets).to.equal(packets.length);
  return packets;
}

const PROBLEMS = 'tcp.analysis.flags || _ws.malformed || (_ws.expert.severity >= warning && !tcp.flags.reset)'
  + ' || tcp.checksum.status != 1 || ip.checksum.status == 0';

function request(n: number): Buffer {
  return Buffer.from(`GET /object/${n} HTTP/1.1\r\nHost: example.test\r\n\r\n`);
}

/** Checks with tshark's parse that every data segment fits the receiver's MSS (and `cap`) and its last advertised window; returns how many there were. */
async function checkSegmentsFit(file: string, cap: number): Promise<number> {
  const rows = await fields(file, ['tcp.stream', 'tcp.srcport', 'tcp.seq', 'tcp.len', 'tcp.ack', 'tcp.window_size', 'tcp.flags.syn', 'tcp.options.mss_val']);
  const mss = new Map<string, number>();
  const windowEdge = new Map<string, number>();
  let dataSegments = 0;
  for (const [stream, port, seq, len, ack, window, syn, mssVal] of rows) {
    const fromServer = port === '443';
    const sender = `${stream}/${fromServer ? 'server' : 'client'}`;
    const receiver = `${stream}/${fromServer ? 'client' : 'server'}`;
    if (syn === '1') mss.set(sender, Number(mssVal));
    if (syn !== '1' || fromServer) windowEdge.set(sender, Number(ack) + Number(window));
    const length = Number(len);
    if (length === 0) continue;
    dataSegments++;
    expect(length).to.be.at.most(Math.min(cap, mss.get(receiver)!));
    expect(Number(seq) + length, `segment in stream ${stream}`).to.be.at.most(windowEdge.get(receiver)!);
  }
  return dataSegments;
}

describe('flow/tcp-synthesizer (judged by tshark)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'cloudtap-flow-')); });
  after(() => { if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true }); else console.log(dir); });

  describe('clean transfers', () => {
    const specs: FlowSpec[] = [
      { n: 1, up: request(1), down: randomBytes(3000), reason: CloseReason.FinFromClient },
      { n: 2, open: { ipVersion: 6 }, up: request(2), down: randomBytes(3 * 1024 * 1024 + 17), reason: CloseReason.FinFromServer, chunk: 65536 },
      { n: 3, up: randomBytes(2 * 1024 * 1024), down: randomBytes(100), reason: CloseReason.RstFromClient, chunk: 100_000 },
      { n: 4, open: { clientMss: 536, serverMss: 1200 }, up: randomBytes(20_000), down: randomBytes(50_000), reason: CloseReason.RstFromServer, chunk: 3000 },
      { n: 5, open: { ipVersion: 6 }, up: request(5), down: randomBytes(5000), reason: CloseReason.IdleTimeout },
      { n: 6, up: request(6), down: randomBytes(7000), reason: CloseReason.GatewayShutdown },
      { n: 7, up: request(7), down: randomBytes(1) },
    ];
    let file: string;
    before(() => {
      file = join(dir, 'clean.pcap');
      writePcapFile(file, synthesize(specs));
    });

    it('has no malformed packets, no bad checksums and no TCP expert warnings', async () => {
      expect(await fields(file, ['frame.number', '_ws.expert.message'], PROBLEMS)).to.deep.equal([]);
      const checked = await fields(file, ['tcp.checksum.status', 'ip.checksum.status', 'ip.version']);
      expect(checked.length).to.be.greaterThan(2000);
      expect(checked.filter(([tcp]) => tcp !== '1'), 'every TCP checksum good').to.deep.equal([]);
      const v4 = checked.filter((row) => row[2] === '4');
      expect(v4.length).to.be.greaterThan(1000);
      expect(v4.filter((row) => row[1] !== '1'), 'every IPv4 header checksum good').to.deep.equal([]);
    });

    it('gives back exactly the bytes in, both directions, by tcp.stream reassembly', async () => {
      const followed = await followTcpRaw(file, specs.map((_, i) => i), RAW_TCP);
      expect(followed.size).to.equal(specs.length);
      specs.forEach((spec, i) => {
        const stream = followed.get(i)!;
        expect(stream.client, `flow ${spec.n} client bytes`).to.deep.equal(spec.up);
        expect(stream.server, `flow ${spec.n} server bytes`).to.deep.equal(spec.down);
      });
    });

    it('opens with SYN, SYN-ACK, ACK carrying the MSS (TLV or 1460/1440), SACK-permitted and window scale', async () => {
      const syns = await fields(file, ['tcp.stream', 'tcp.flags.ack', 'tcp.options.mss_val', 'tcp.options.sack_perm', 'tcp.options.wscale.shift'], 'tcp.flags.syn == 1');
      expect(syns.length).to.equal(2 * specs.length);
      const mss = (stream: number, fromServer: boolean) => syns.find((s) => s[0] === String(stream) && s[1] === (fromServer ? '1' : '0'))![2];
      expect([mss(0, false), mss(0, true), mss(1, false), mss(3, false), mss(3, true)]).to.deep.equal(['1460', '1460', '1440', '536', '1200']);
      expect(syns.filter((s) => !(s[3] !== '' && s[4] === '7'))).to.deep.equal([]);
    });

    it('segments to the receiver\'s MSS and keeps every segment inside the advertised window', async () => {
      expect(await checkSegmentsFit(file, Infinity)).to.be.greaterThan(3000);
    });

    it('closes as the FLOW_CLOSE reason says, and not at all when the stitcher closed the flow', async () => {
      const closes = await fields(file, ['tcp.stream', 'tcp.srcport', 'tcp.flags.fin', 'tcp.flags.reset'], 'tcp.flags.fin == 1 || tcp.flags.reset == 1');
      const summary = specs.map((_, i) => closes.filter((c) => c[0] === String(i))
        .map((c) => `${c[1] === '443' ? 'server' : 'client'}-${c[2] === '1' ? 'FIN' : 'RST'}`).join(' '));
      expect(summary).to.deep.equal([
        'client-FIN server-FIN', 'server-FIN client-FIN', 'client-RST', 'server-RST',
        'server-FIN client-FIN', 'server-RST', '',
      ]);
    });

    it('has timestamps that never go back within a flow', async () => {
      const rows = await fields(file, ['tcp.stream', 'frame.time_epoch']);
      const last = new Map<string, bigint>();
      for (const [stream, time] of rows) {
        const ns = BigInt(time!.replace('.', ''));
        expect(ns >= (last.get(stream!) ?? 0n), `stream ${stream}: ${ns} ns after ${last.get(stream!)} ns`).to.equal(true);
        last.set(stream!, ns);
      }
    });
  });

  describe('a receiver that acknowledges rarely, and a cap on the segment size', () => {
    const down = randomBytes(10 * 1024 * 1024);
    let file: string;
    let packets: Packet[];
    before(() => {
      file = join(dir, 'rare-acks.pcap');
      packets = synthesize([{ n: 30, up: request(30), down, reason: CloseReason.FinFromServer, chunk: 1 << 20 }],
        { ackEverySegments: 1_000_000, maxSegmentPayload: 1400 });
      writePcapFile(file, packets);
    });

    it('still keeps every segment inside the window (the receiver ACKs when the window would overflow)', async () => {
      expect(await checkSegmentsFit(file, 1400)).to.equal(Math.ceil(down.length / 1400) + 1);
      expect(await fields(file, ['frame.number', '_ws.expert.message'], PROBLEMS)).to.deep.equal([]);
      expect((await followTcpRaw(file, [0], RAW_TCP)).get(0)!.server).to.deep.equal(down);
    });
  });

  describe('a transfer with a hole', () => {
    const down = randomBytes(200_000);
    const hole: readonly [number, number] = [50_000, 30_000];
    let file: string;
    before(() => {
      file = join(dir, 'hole.pcap');
      writePcapFile(file, synthesize([
        { n: 20, up: request(20), down, reason: CloseReason.FinFromServer, gapDown: hole },
        { n: 21, open: { ipVersion: 6 }, up: request(21), down, reason: CloseReason.FinFromClient, gapDown: hole, chunk: 7000 },
        { n: 22, up: request(22), down, reason: CloseReason.FinFromServer, missingTail: 10_000 },
      ]));
    });

    it('shows the hole as "previous segment not captured", then the one ACK across it, and nothing else', async () => {
      const flagged = await fields(file, ['tcp.stream', 'tcp.srcport', 'tcp.seq', 'tcp.ack', 'tcp.analysis.lost_segment', 'tcp.analysis.ack_lost_segment'], PROBLEMS);
      const afterHole = String(1 + hole[0] + hole[1]);
      for (const stream of ['0', '1']) {
        const rows = flagged.filter((row) => row[0] === stream);
        expect(rows, `stream ${stream}`).to.have.length(2);
        // The server's first segment after the hole: a sequence jump, no bytes invented.
        expect([rows[0]![1], rows[0]![2], rows[0]![4]]).to.deep.equal(['443', afterHole, '1']);
        // The client's ACK that covers it never acknowledges beyond what was sent after the hole.
        expect(rows[1]![1]).to.not.equal('443');
        expect(rows[1]![5]).to.equal('1');
        expect(Number(rows[1]![3])).to.be.greaterThan(Number(afterHole));
      }
    });

    it('carries every byte at its place and none in the hole', async () => {
      const rows = await fields(file, ['tcp.stream', 'tcp.seq', 'tcp.payload'], 'tcp.srcport == 443 && tcp.len > 0');
      for (const stream of ['0', '1']) {
        let covered = 0;
        for (const [, seq, payload] of rows.filter((row) => row[0] === stream)) {
          const offset = Number(seq) - 1;
          const bytes = Buffer.from(payload!.replaceAll(':', ''), 'hex');
          expect(bytes, `bytes at ${offset}`).to.deep.equal(down.subarray(offset, offset + bytes.length));
          expect(offset + bytes.length <= hole[0] || offset >= hole[0] + hole[1], `segment at ${offset} in the hole`).to.equal(true);
          covered += bytes.length;
        }
        expect(covered).to.equal(down.length - hole[1]);
      }
    });

    it('shows bytes missing at the end as a sequence jump of the FIN, nothing sent in their place', async () => {
      const flagged = (await fields(file, ['tcp.stream', 'tcp.srcport', 'tcp.seq', 'tcp.flags.fin', 'tcp.analysis.lost_segment', 'tcp.analysis.ack_lost_segment'], PROBLEMS))
        .filter((row) => row[0] === '2');
      expect(flagged).to.have.length(2);
      expect([flagged[0]![1], flagged[0]![2], flagged[0]![3], flagged[0]![4]]).to.deep.equal(['443', String(1 + down.length), '1', '1']);
      expect(flagged[1]![5]).to.equal('1');
      const sent = (await fields(file, ['tcp.len'], 'tcp.stream == 2 && tcp.srcport == 443')).reduce((sum, [len]) => sum + Number(len), 0);
      expect(sent).to.equal(down.length - 10_000);
    });
  });

  it('is deterministic: the same flows give the same bytes, payloads passed on without copying', () => {
    const spec: FlowSpec = { n: 40, open: { ipVersion: 6 }, up: request(40), down: randomBytes(5000), reason: CloseReason.FinFromClient };
    const first = synthesize([spec]);
    const second = synthesize([spec]);
    expect(first.length).to.equal(second.length);
    first.forEach((packet, i) => {
      expect(packet.tsNs).to.equal(second[i]!.tsNs);
      expect(Buffer.concat([packet.header, packet.payload])).to.deep.equal(Buffer.concat([second[i]!.header, second[i]!.payload]));
    });
    // The synthesiser cuts segments out of the bytes it is handed, never copies them.
    const views: Buffer[] = [];
    const synthesizer = new TcpSynthesizer((packet) => { if (packet.payload.length > 0) views.push(packet.payload); });
    const records = flowRecords(spec);
    const openRecord = records[0]!;
    if (openRecord.type !== RecordType.FlowOpen) throw new Error('flowRecords starts with FLOW_OPEN');
    const identity = { key: openRecord.flowId.toString('hex'), gateway: 'gw-test', open: openRecord };
    synthesizer.openFlow(identity);
    for (const record of records) {
      if (record.type === RecordType.Data) synthesizer.flowEvent(identity, { kind: 'data', dir: record.dir, tsNs: record.tsNs, offset: record.offset, payload: record.payload });
    }
    expect(views.length).to.be.greaterThan(3);
    const foreign = views.filter((view) => view.buffer !== spec.down.buffer && view.buffer !== spec.up.buffer);
    expect(foreign.length, 'segment payloads that are copies').to.equal(0);
  });
});
