import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';
import { encodeRecord } from '../../stitcher/format/record-encoder.js';
import { BlockCodec, ObjectKind, RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import { CtapObjectWriter, encodeCtapObject } from '../../stitcher/format/writer.js';
import { HEADER, dataRecords, everyRecord, flowId, layoutOf, readBytes } from './support.js';

const JUDGE = join(projectRoot, 'test', 'format', 'ctap_judge.py');
const CODECS = [
  ['none', BlockCodec.None],
  ['deflate', BlockCodec.Deflate],
  ['gzip', BlockCodec.Gzip],
] as const;

interface Judged {
  version: number;
  kind: number;
  gateway: string;
  seq: string;
  createdNs: string;
  blocks: { codec: number; storedLen: number; rawLen: number; records: number }[];
  records: Record<string, unknown>[];
  end: { blockCount: number; recordCount: string; firstNs: string; lastNs: string };
}

/** Decodes with the independent Python decoder (test/format/ctap_judge.py). */
function judge(object: Buffer): Judged {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-judge-'));
  try {
    const file = join(dir, 'object.ctap');
    writeFileSync(file, object);
    return JSON.parse(execFileSync('python3', [JUDGE, file], { encoding: 'utf8' })) as Judged;
  } catch (error) {
    throw new Error(`ctap_judge.py refused the object: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A record as the judge prints it. */
function asJudged(record: CtapRecord): Record<string, unknown> {
  switch (record.type) {
    case RecordType.FlowOpen: {
      const tags: Record<string, string | number> = {};
      const names = ['user', 'serverName', 'application', 'policy', 'clientMss', 'serverMss', 'site', 'sourceCountry'] as const;
      names.forEach((name, i) => {
        if (record.tags[name] !== undefined) tags[String(i + 1)] = record.tags[name];
      });
      return {
        type: 1, flowId: record.flowId.toString('hex'), tsNs: String(record.tsNs), ipVersion: record.ipVersion, l4: record.l4,
        clientIp: record.clientIp.toString('hex'), clientPort: record.clientPort, serverIp: record.serverIp.toString('hex'), serverPort: record.serverPort, tags,
      };
    }
    case RecordType.Data:
      return { type: 2, flowId: record.flowId.toString('hex'), tsNs: String(record.tsNs), dir: record.dir, offset: String(record.offset), payload: record.payload.toString('hex') };
    case RecordType.FlowClose:
      return { type: 3, flowId: record.flowId.toString('hex'), tsNs: String(record.tsNs), reason: record.reason, bytesC2s: String(record.bytesC2s), bytesS2c: String(record.bytesS2c) };
    case RecordType.Gap:
      return { type: 4, flowId: record.flowId.toString('hex'), tsNs: String(record.tsNs), dir: record.dir, offset: String(record.offset), length: String(record.length) };
    case RecordType.TlsKeys:
      return { type: 5, tsNs: String(record.tsNs), flowId: record.flowId.toString('hex'), lines: record.lines };
  }
}

describe('format/writer', () => {
  for (const [name, codec] of CODECS) {
    describe(`codec ${name}`, () => {
      const records = [...everyRecord(), ...dataRecords(40, 700)];
      const object = encodeCtapObject(HEADER, records, { codec, blockBytes: 4096 });

      it('writes what an independent decoder of the spec reads back', () => {
        const judged = judge(object);
        expect(judged).to.deep.include({ version: 1, kind: 1, gateway: HEADER.gateway, seq: '42', createdNs: String(HEADER.createdNs) });
        expect(judged.records).to.deep.equal(records.map(asJudged));
        expect(judged.blocks.filter((b) => b.codec !== codec)).to.deep.equal([]);
        expect(judged.end).to.deep.equal({
          blockCount: judged.blocks.length,
          recordCount: String(records.length),
          firstNs: String(records.reduce((m, r) => (r.tsNs < m ? r.tsNs : m), records[0].tsNs)),
          lastNs: String(records.reduce((m, r) => (r.tsNs > m ? r.tsNs : m), records[0].tsNs)),
        });
      });

      it('round-trips every record type through the reader, even one byte at a time', async () => {
        for (const chunkSize of [1, 7, 4096, object.length]) {
          const read = await readBytes(object, chunkSize);
          expect(read.damage, `chunks of ${chunkSize}`).to.deep.equal([]);
          expect(read.records).to.deep.equal(records);
          expect(read.summary).to.deep.include({ blocks: layoutOf(object).blocks.length, records: records.length, damaged: false, complete: true });
          expect(read.summary.header).to.deep.equal({ version: 1, ...HEADER });
        }
      });
    });
  }

  it('keeps records whole per block and starts a block when the next record would pass blockBytes', () => {
    const records = dataRecords(30, 1000); // 1038 bytes each as a record
    const judged = judge(encodeCtapObject(HEADER, records, { codec: BlockCodec.None, blockBytes: 3000 }));
    expect(judged.blocks.map((b) => b.records)).to.deep.equal([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(judged.blocks.filter((b) => b.rawLen !== 2 * 1038)).to.deep.equal([]);
  });

  it('gives a record larger than blockBytes a block of its own', () => {
    const records = [...dataRecords(1, 10), ...dataRecords(1, 5000), ...dataRecords(1, 10)];
    const judged = judge(encodeCtapObject(HEADER, records, { blockBytes: 1000 }));
    expect(judged.blocks.map((b) => b.rawLen)).to.deep.equal([48, 5038, 48]);
  });

  it('writes an object with no records as header and end only', async () => {
    const object = new CtapObjectWriter({ ...HEADER, kind: ObjectKind.Keys }).finish();
    expect(judge(object)).to.deep.include({ kind: 2, blocks: [], records: [], end: { blockCount: 0, recordCount: '0', firstNs: '0', lastNs: '0' } });
    const read = await readBytes(object);
    expect(read.summary).to.deep.include({ blocks: 0, records: 0, damaged: false, complete: true });
  });

  it('counts records and takes none after finish', () => {
    const writer = new CtapObjectWriter(HEADER);
    for (const record of everyRecord()) writer.add(record);
    expect(writer.recordCount).to.equal(everyRecord().length);
    writer.finish();
    expect(() => writer.add(everyRecord()[0])).to.throw(/finished/);
  });

  it('refuses fields that do not fit, naming them', () => {
    const data = dataRecords(1, 4)[0];
    expect(() => encodeRecord({ ...data, flowId: Buffer.alloc(15) } as CtapRecord)).to.throw(RangeError, /flow_id is 15 bytes/);
    expect(() => encodeRecord({ ...everyRecord()[0], clientIp: Buffer.alloc(16) } as CtapRecord)).to.throw(/client_ip of an IPv4 flow is 16 bytes/);
    expect(() => encodeRecord({ ...everyRecord()[0], serverPort: 70000 } as CtapRecord)).to.throw(/server_port 70000/);
    expect(() => encodeRecord({ ...data, offset: -1n } as CtapRecord)).to.throw(/offset -1/);
    expect(() => encodeRecord({ ...everyRecord()[0], tags: { clientMss: 1e6 } } as CtapRecord)).to.throw(/clientMss/);
    expect(() => new CtapObjectWriter({ ...HEADER, gateway: 'Upper' })).to.throw(/gateway "Upper"/);
    expect(() => new CtapObjectWriter(HEADER, { blockBytes: 9 * 1024 * 1024 })).to.throw(/blockBytes/);
    expect(() => new CtapObjectWriter(HEADER, { codec: 7 as BlockCodec })).to.throw(/codec 7/);
    const huge = { ...data, flowId: flowId(1), payload: Buffer.alloc(8 * 1024 * 1024) } as CtapRecord;
    expect(() => new CtapObjectWriter(HEADER).add(huge)).to.throw(/over the 8388608-byte block limit/);
  });
});
