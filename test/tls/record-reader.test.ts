import { expect } from 'chai';
import { TlsFramingError, TlsRecordReader } from '../../stitcher/tls/record-reader.js';
import type { TlsRecord } from '../../stitcher/tls/record-reader.js';

function record(type: number, body: Buffer): Buffer {
  const header = Buffer.of(type, 3, 3, body.length >> 8, body.length & 0xff);
  return Buffer.concat([header, body]);
}

describe('TlsRecordReader', () => {
  const bodies = [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(300, 7), Buffer.alloc(16384 + 256, 9)];
  const stream = Buffer.concat(bodies.map((body, i) => record(20 + (i % 4), body)));

  for (const piece of [1, 2, 4, 5, 6, 299, 1000, stream.length]) {
    it(`frames the same records from pieces of ${piece} bytes`, () => {
      const reader = new TlsRecordReader();
      const records: TlsRecord[] = [];
      for (let i = 0; i < stream.length; i += piece) {
        reader.push(stream.subarray(i, i + piece), BigInt(i), (r) => records.push({ ...r, body: Buffer.from(r.body) }));
      }
      expect(records.map((r) => r.type)).to.deep.equal([20, 21, 22, 23]);
      expect(records.map((r) => r.body.equals(bodies[records.indexOf(r)]))).to.deep.equal([true, true, true, true]);
      expect(records.map((r) => r.offset)).to.deep.equal([0n, 5n, 11n, 316n]);
      expect(reader.pendingBytes).to.equal(0);
    });
  }

  it('frames full records cut by every piece right, assembling each into the buffer of the one before it', () => {
    // bulk data: records of one size, pieces that end inside a record (as CTAP DATA of 10,000 bytes does)
    const full = Array.from({ length: 12 }, (_, i) => Buffer.alloc(16384 + 17, i + 1));
    const bulk = Buffer.concat(full.map((body) => record(23, body)));
    const reader = new TlsRecordReader();
    const seen: boolean[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < bulk.length; i += 10_000) {
      reader.push(bulk.subarray(i, i + 10_000), 0n, (r) => {
        seen.push(r.body.equals(full[seen.length]!));
        if (r.body.buffer !== bulk.buffer) buffers.add(r.body.buffer);
      });
    }
    expect(seen).to.deep.equal(full.map(() => true));
    // each piece that completes a record starts the next one in its buffer: one buffer for the whole stream
    expect(buffers.size).to.equal(1);
  });

  it('stamps a record with the time of the piece that completed it', () => {
    const reader = new TlsRecordReader();
    const times: bigint[] = [];
    const one = record(23, Buffer.alloc(10));
    reader.push(one.subarray(0, 3), 100n, (r) => times.push(r.tsNs));
    reader.push(one.subarray(3), 200n, (r) => times.push(r.tsNs));
    expect(times).to.deep.equal([200n]);
  });

  it('refuses bytes that are not TLS records, naming the stream offset', () => {
    const reader = new TlsRecordReader();
    reader.push(record(23, Buffer.alloc(4)), 0n, () => undefined);
    expect(() => reader.push(Buffer.from('GET / HTTP/1.1'), 0n, () => undefined))
      .to.throw(TlsFramingError, /stream offset 9/);
  });
});
