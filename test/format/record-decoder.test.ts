import { expect } from 'chai';
import { decodeRecords } from '../../stitcher/format/record-decoder.js';
import { encodeRecord } from '../../stitcher/format/record-encoder.js';
import { RecordType, type CtapRecord } from '../../stitcher/format/records.js';
import { dataRecords, everyRecord } from './support.js';

/** A FLOW_OPEN (IPv4, no tags) followed by raw TLV bytes. */
function flowOpenWithTlvs(tlvs: number[]): Buffer {
  const base = encodeRecord({ ...everyRecord()[0], tags: {} } as CtapRecord);
  const record = Buffer.concat([base, Buffer.from(tlvs)]);
  record.writeUInt32LE(record.length - 5, 1);
  return record;
}

describe('format/record-decoder', () => {
  it('decodes records back to back and counts every framed one', () => {
    const records = everyRecord();
    const block = Buffer.concat(records.map(encodeRecord));
    const decoded = decodeRecords(block);
    expect(decoded).to.deep.equal({ records, next: block.length, framed: records.length, problems: [] });
  });

  it('decodes a block in parts: each from where the last stopped, numbering records on', () => {
    const records = everyRecord();
    const block = Buffer.concat(records.map(encodeRecord));
    const parts: CtapRecord[][] = [];
    let from = 0;
    let index = 0;
    while (from < block.length) {
      const part = decodeRecords(block, from, 2, index);
      expect(part.records.length).to.be.at.most(2);
      parts.push(part.records);
      from = part.next;
      index += part.framed;
    }
    expect(parts.flat()).to.deep.equal(records);
    expect(index).to.equal(records.length);
  });

  it('refuses TLVs that break their framing, keeping the records around them', () => {
    const data = dataRecords(1, 10)[0];
    const cases: [number[], string][] = [
      [[5, 3, 0, 1, 2, 3], 'FLOW_OPEN TLV tag 5 (MSS) has length 3, expected 2'],
      [[2, 9, 0, 65], 'FLOW_OPEN TLV tag 2 length 9 runs past the end of the record'],
      [[1, 0], 'FLOW_OPEN TLV at body byte 0 of the tags is cut short (2 of 3 bytes)'],
    ];
    for (const [tlvs, problem] of cases) {
      const decoded = decodeRecords(Buffer.concat([encodeRecord(data), flowOpenWithTlvs(tlvs), encodeRecord(data)]));
      expect(decoded.problems).to.deep.equal([{ index: 1, at: 5 + 33 + 10, problem }]);
      expect(decoded.records).to.deep.equal([data, data]);
      expect(decoded.framed).to.equal(3);
    }
  });

  it('refuses an ip_version, a dir it does not know, and stray bytes', () => {
    const open = encodeRecord(everyRecord()[0]);
    open[5 + 24] = 5;
    const data = encodeRecord(dataRecords(1, 10)[0]);
    data[5 + 24] = 2;
    const decoded = decodeRecords(Buffer.concat([open, data, Buffer.from([RecordType.Gap, 1])]));
    expect(decoded.problems.map((p) => p.problem)).to.deep.equal([
      'FLOW_OPEN ip_version 5 is neither 4 nor 6',
      'DATA dir 2 is neither 0 nor 1',
      '2 stray bytes after the last record (a record header takes 5)',
    ]);
    expect(decoded.records).to.deep.equal([]);
    expect(decoded.framed).to.equal(2);
  });

  it('keeps a FLOW_CLOSE reason it does not know (a newer gateway may add some)', () => {
    const close = everyRecord().find((r) => r.type === RecordType.FlowClose);
    const bytes = encodeRecord(close ?? everyRecord()[0]);
    bytes[5 + 24] = 9;
    expect(decodeRecords(bytes).records).to.deep.equal([{ ...close, reason: 9 }]);
  });
});
