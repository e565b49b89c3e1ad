import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import type { GenerateOptions, GenerateResult } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { sha256 as sha256Of } from '../support/sha.js';
import { keyRecords, reassemble, readAllObjects, recordsByFlow } from './read-back.js';
import type { FlowRecords, ReadObject } from './read-back.js';

const NS_PER_HOUR = 3_600_000_000_000n;
const HOUR_BOUNDARY = BigInt(Date.UTC(2026, 10, 25, 11)) * 1_000_000n;
const CLOSE_NAMES = ['fin-client', 'fin-server', 'rst-client', 'rst-server'];

interface Run {
  readonly result: GenerateResult;
  readonly objects: ReadObject[];
  readonly flows: Map<string, FlowRecords>;
}

async function generateInto(folder: string, options: Omit<GenerateOptions, 'traffic'>): Promise<Run> {
  const store = new LocalFolderStore(folder);
  const result = await generateTraffic({ traffic: store, ...options });
  const objects = await readAllObjects(store);
  return { result, objects, flows: recordsByFlow(objects) };
}

describe('generator: generateTraffic', function () {
  let folder: string;
  let faulty: Run;
  let clean: Run;

  before(async function () {
    folder = await mkdtemp(join(tmpdir(), 'cloudtap-generator-'));
    faulty = await generateInto(join(folder, 'faulty'), {
      flows: 24,
      gateways: 3,
      seed: 'faulty',
      objectBytes: 32 * 1024,
      bodyBytes: 120_000,
      shuffle: true,
      duplicateShare: 0.2,
      overlapShare: 0.2,
      reorderWindow: 4,
      keysTiming: 'after-traffic',
      gapFlows: [1, 5],
      withoutKeys: [2, 7, 11, 13],
      rstShare: 0.5,
      startNs: HOUR_BOUNDARY - 250_000_000n,
      timeScale: 0,
      nsPerByte: 200,
    });
    clean = await generateInto(join(folder, 'clean'), {
      flows: 16,
      seed: 'clean',
      objectBytes: 64 * 1024,
      bodyBytes: 150_000,
      resplitShare: 0,
      keysTiming: 'before-traffic',
      root: 'tap',
      keyRoot: 'tls',
    });
  });

  after(async function () {
    await rm(folder, { recursive: true, force: true });
  });

  for (const name of ['faulty', 'clean'] as const) {
    describe(`a ${name} run`, function () {
      const run = (): Run => (name === 'faulty' ? faulty : clean);

      it('writes objects that decode without damage, under the hour they were started', function () {
        const { objects, result } = run();
        expect(objects.length).to.equal(result.objects.length);
        for (const object of objects) {
          expect(object.damage, object.key).to.deep.equal([]);
          expect(object.header.gateway).to.equal(object.parsed.gateway);
          expect(object.header.seq).to.equal(object.parsed.seq);
          expect(object.header.kind).to.equal(object.parsed.kind);
          const hourStart = BigInt(object.parsed.hour.getTime()) * 1_000_000n;
          expect(object.header.createdNs >= hourStart && object.header.createdNs < hourStart + NS_PER_HOUR, `${object.key} created at ${object.header.createdNs} ns, its hour from ${hourStart}`).to.equal(true);
          for (const record of object.records) {
            expect(record.tsNs >= object.header.createdNs && record.tsNs < hourStart + NS_PER_HOUR, `${object.key}: a record at ${record.tsNs} ns, the object from ${object.header.createdNs}`).to.equal(true);
          }
        }
      });

      it('numbers each gateway\'s traffic and key objects separately from 0 without holes', function () {
        const { objects, result } = run();
        for (const gateway of result.gateways) {
          for (const kind of [1, 2]) {
            const seqs = objects.filter((o) => o.header.gateway === gateway && o.header.kind === kind).map((o) => Number(o.header.seq));
            seqs.sort((a, b) => a - b);
            expect(seqs, `${gateway} kind ${kind}`).to.deep.equal(seqs.map((_, i) => i));
          }
        }
        expect(objects.filter((o) => o.header.kind === 1).map((o) => o.header.seq), 'the seqs of key objects: some past 0').to.satisfy((seqs: bigint[]) => seqs.some((seq) => seq > 0n));
      });

      it('puts traffic under the root and keys under the key root', function () {
        const { objects, result } = run();
        for (const object of objects) {
          expect(object.parsed.root).to.equal(object.header.kind === 1 ? result.root : result.keyRoot);
        }
      });

      it('records every flow once, with open and close in the right objects', function () {
        const { result, flows, objects } = run();
        const seqOf = new Map(objects.map((o) => [o.key, o.header.seq]));
        expect(flows.size).to.equal(result.flows.length);
        for (const flow of result.flows) {
          const records = flows.get(flow.flowId)!;
          expect(records, flow.flowId).to.not.equal(undefined);
          expect(records.opens).to.have.length(1);
          expect(records.closes).to.have.length(1);
          const [open, close] = [records.opens[0]!, records.closes[0]!];
          const objectOf = (tsKey: string): bigint => seqOf.get(tsKey)!;
          const openSeq = objectOf(keyHolding(objects, open));
          const closeSeq = objectOf(keyHolding(objects, close));
          for (const data of records.data) {
            const seq = objectOf(keyHolding(objects, data));
            expect(openSeq <= seq && seq <= closeSeq, `flow ${flow.index}: seq ${seq} outside ${openSeq}..${closeSeq}`).to.equal(true);
          }
          expect(Number(close.bytesC2s)).to.equal(flow.bytesC2s);
          expect(Number(close.bytesS2c)).to.equal(flow.bytesS2c);
          expect(CLOSE_NAMES[close.reason]).to.equal(flow.close);
          for (const key of records.objectKeys) expect(key).to.contain(`/${flow.gateway}/`);
        }
      });

      it('records addresses as the user\'s host sees them and the real server port', function () {
        const { result, flows } = run();
        for (const flow of result.flows) {
          const open = flows.get(flow.flowId)!.opens[0]!;
          expect(open.ipVersion).to.equal(flow.ipVersion);
          expect(open.l4).to.equal(6);
          expect(open.serverPort).to.equal(flow.protocol === 'http' ? 80 : 443);
          expect(endpointBytes(flow.client)).to.deep.equal([...open.clientIp, open.clientPort]);
          expect(endpointBytes(flow.server)).to.deep.equal([...open.serverIp, open.serverPort]);
          if (flow.ipVersion === 4) {
            expect(open.clientIp[0]).to.equal(10);
            expect([[198, 51, 100], [203, 0, 113]]).to.deep.include([...open.serverIp.subarray(0, 3)]);
          } else {
            expect(open.clientIp[0]).to.equal(0xfd);
            expect(open.serverIp.subarray(0, 4).toString('hex')).to.equal('20010db8');
          }
          expect(open.tags.user).to.equal(flow.user);
          expect(open.tags.serverName).to.equal(flow.serverName);
        }
      });

      it('writes DATA that reassembles to exactly what the relay forwarded, except the lost bytes', function () {
        const { result, flows } = run();
        for (const flow of result.flows) {
          const records = flows.get(flow.flowId)!;
          for (const [dir, length, sha256] of [[0, flow.bytesC2s, flow.sha256C2s], [1, flow.bytesS2c, flow.sha256S2c]] as const) {
            const stream = reassemble(records.data, dir, length);
            expect(stream.conflicts, `flow ${flow.index} dir ${dir}`).to.equal(0);
            const lost = new Uint8Array(length);
            for (const gap of flow.gaps.filter((g) => (g.dir === 'c2s' ? 0 : 1) === dir)) lost.fill(1, gap.offset, gap.offset + gap.length);
            const holes = stream.covered.findIndex((c, i) => c === lost[i]);
            expect(holes, `flow ${flow.index} dir ${dir}: covered where lost or lost where covered`).to.equal(-1);
            if (!lost.includes(1)) expect(sha256Of(stream.bytes), `flow ${flow.index} dir ${dir}`).to.equal(sha256);
          }
          const gapRecords = records.gaps.map((g) => ({ dir: g.dir === 0 ? 'c2s' : 's2c', offset: Number(g.offset), length: Number(g.length) }));
          expect(gapRecords).to.deep.equal(flow.gaps);
        }
      });

      it('serves plain HTTP bodies that the tapped server-to-client bytes carry byte for byte', function () {
        const { result, flows } = run();
        const plain = result.flows.filter((f) => f.protocol === 'http' && f.gaps.length === 0);
        expect(plain.length).to.be.greaterThan(0);
        for (const flow of plain) {
          const s2c = reassemble(flows.get(flow.flowId)!.data, 1, flow.bytesS2c).bytes;
          expect(httpBodies(s2c).map(sha256Of), `flow ${flow.index}`).to.deep.equal(flow.objects.map((o) => o.sha256));
          expect(flow.objects.filter((o) => !o.path.startsWith('/files/'))).to.deep.equal([]);
        }
      });

      it('writes the keys of TLS flows, matching the ClientHello random in the tapped bytes', function () {
        const { result, flows, objects } = run();
        const keys = keyRecords(objects);
        const tls = result.flows.filter((f) => f.protocol !== 'http');
        expect(tls.length).to.be.greaterThan(0);
        for (const flow of tls) {
          const c2s = reassemble(flows.get(flow.flowId)!.data, 0, flow.bytesC2s).bytes;
          expect(c2s[0], 'a TLS handshake record').to.equal(0x16);
          expect(c2s[5], 'a ClientHello').to.equal(1);
          const random = c2s.subarray(11, 43).toString('hex');
          const lines = keys.filter((k) => k.record.lines.toLowerCase().includes(random));
          if (!flow.hasKeys) {
            expect(lines, `flow ${flow.index} keys withheld`).to.have.length(0);
            continue;
          }
          expect(flow.clientRandom).to.equal(random);
          expect(lines, `flow ${flow.index}`).to.have.length(1);
          expect(lines[0]!.gateway).to.equal(flow.gateway);
          expect(lines[0]!.record.flowId.toString('hex')).to.equal(flow.flowId);
          const labels = lines[0]!.record.lines.trim().split('\n').map((line) => line.split(' ')[0]);
          if (flow.tls!.version === 'TLSv1.3') expect(labels).to.include.members(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']);
          else {
            // OpenSSL adds an `RSA` line (the pre-master secret) for RSA key exchange suites.
            expect(labels).to.include('CLIENT_RANDOM');
            expect(['CLIENT_RANDOM', 'RSA']).to.include.members(labels);
          }
        }
      });
    });
  }

  describe('its knobs', function () {
    it('mixes protocols, TLS versions, suites, address families and close reasons', function () {
      const flows = faulty.result.flows;
      expect(new Set(flows.map((f) => f.protocol))).to.have.keys('http', 'https', 'h2');
      expect([...new Set(flows.map((f) => f.ipVersion))].sort()).to.deep.equal([4, 6]);
      expect(new Set(flows.map((f) => f.tls?.version).filter((v) => v !== undefined))).to.have.keys('TLSv1.2', 'TLSv1.3');
      expect(new Set(flows.map((f) => f.tls?.cipher)).size).to.be.greaterThan(4);
      expect(new Set(flows.map((f) => f.close))).to.have.keys(...CLOSE_NAMES);
      expect(new Set(flows.map((f) => f.gateway))).to.have.keys('gw-a1', 'gw-a2', 'gw-a3');
    });

    it('shuffles records within objects only when asked', function () {
      expect(faulty.objects.filter((o) => !inTimeOrder(o)).length, `objects of ${faulty.objects.length} with shuffled records`).to.be.above(0);
      expect(clean.objects.filter((item) => !inTimeOrder(item))).to.deep.equal([]);
    });

    it('repeats and overlaps DATA only when asked', function () {
      expect(countRepeats(faulty.flows).same).to.be.greaterThan(0);
      expect(countRepeats(faulty.flows).overlapping).to.be.greaterThan(0);
      expect(countRepeats(clean.flows)).to.deep.equal({ same: 0, overlapping: 0 });
    });

    it('uploads out of seq order only when asked', function () {
      const ordered = (run: Run): boolean => run.result.gateways.every((gateway) => {
        const seqs = run.result.objects.filter((o) => o.gateway === gateway && o.kind === 'traffic').map((o) => o.seq);
        return seqs.every((seq, i) => seq === BigInt(i));
      });
      expect(ordered(faulty), 'the faulty run uploads out of seq order').to.equal(false);
      expect(ordered(clean), 'the clean run uploads in seq order').to.equal(true);
    });

    it('uploads keys after all traffic, or before it', function () {
      const kinds = (run: Run): string => run.result.objects.map((o) => (o.kind === 'keys' ? 'K' : 'T')).join('');
      expect(kinds(faulty)).to.match(/^T+K+$/);
      expect(kinds(clean)).to.match(/^K+T+$/);
    });

    it('straddles an hour boundary with a flow in objects of both hours', function () {
      const hours = new Set(faulty.objects.map((o) => o.parsed.hourPrefix));
      expect([...hours].sort()).to.deep.equal(['2026/11/25/10/', '2026/11/25/11/']);
      const hourOfKey = new Map(faulty.objects.map((o) => [o.key, o.parsed.hourPrefix]));
      const straddling = [...faulty.flows.values()].filter((f) => new Set([...f.objectKeys].map((k) => hourOfKey.get(k))).size === 2);
      expect(straddling.length).to.be.greaterThan(0);
    });

    it('loses bytes only in the flows asked for', function () {
      expect(faulty.result.flows.filter((f) => f.gaps.length > 0).map((f) => f.index)).to.deep.equal([1, 5]);
      expect(clean.result.flows.filter((f) => f.gaps.length !== 0)).to.deep.equal([]);
    });

    it('withholds keys only for the flows asked for', function () {
      const withheld = faulty.result.flows.filter((f) => f.protocol !== 'http' && !f.hasKeys).map((f) => f.index);
      const asked = faulty.result.flows.filter((f) => f.protocol !== 'http' && [2, 7, 11, 13].includes(f.index)).map((f) => f.index);
      expect(asked.length).to.be.greaterThan(0);
      expect(withheld).to.deep.equal(asked);
    });
  });
});

function keyHolding(objects: readonly ReadObject[], record: object): string {
  const object = objects.find((o) => o.records.includes(record as never));
  if (object === undefined) throw new Error('record not found in any object');
  return object.key;
}

/** `10.1.2.3:80` or `[fd00::1]:80` as address bytes followed by the port. */
function endpointBytes(endpoint: string): number[] {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon);
  const port = Number(endpoint.slice(colon + 1));
  if (!host.startsWith('[')) return [...host.split('.').map(Number), port];
  const [head, tail] = host.slice(1, -1).split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return [...bytes, port];
}

/** The bodies of back-to-back HTTP/1.1 responses with Content-Length. */
function httpBodies(stream: Buffer): Buffer[] {
  const bodies: Buffer[] = [];
  let at = 0;
  while (at < stream.length) {
    const end = stream.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`unterminated response header at ${at}`);
    const header = stream.subarray(at, end).toString('latin1');
    const length = Number(/content-length: (\d+)/i.exec(header)?.[1]);
    bodies.push(stream.subarray(end + 4, end + 4 + length));
    at = end + 4 + length;
  }
  return bodies;
}

function inTimeOrder(object: ReadObject): boolean {
  return object.records.every((record, i) => i === 0 || object.records[i - 1]!.tsNs <= record.tsNs);
}

function countRepeats(flows: Map<string, FlowRecords>): { same: number; overlapping: number } {
  let same = 0;
  let overlapping = 0;
  for (const flow of flows.values()) {
    for (const dir of [0, 1]) {
      const data = flow.data.filter((d) => d.dir === dir).sort((a, b) => Number(a.offset - b.offset));
      for (let i = 1; i < data.length; i++) {
        const [previous, current] = [data[i - 1]!, data[i]!];
        if (previous.offset === current.offset && previous.payload.length === current.payload.length) same++;
        else if (Number(previous.offset) + previous.payload.length > Number(current.offset)) overlapping++;
      }
    }
  }
  return { same, overlapping };
}

