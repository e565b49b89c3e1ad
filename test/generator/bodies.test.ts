import { sha256 } from '../support/sha.js';
import { expect } from 'chai';
import { bodyChunks, bodySha256 } from '../../stitcher/generator/bodies.js';

describe('generator: bodies', function () {
  const whole = (seed: string, path: string, size: number, kind: 'text' | 'binary'): Buffer =>
    Buffer.concat([...bodyChunks(seed, { path, size, kind })]);

  it('has exactly the asked size, in chunks of at most 64 KiB', function () {
    for (const size of [0, 1, 3, 65_535, 65_536, 200_001]) {
      for (const kind of ['text', 'binary'] as const) {
        const chunks = [...bodyChunks('s', { path: '/p', size, kind })];
        expect(chunks.reduce((sum, c) => sum + c.length, 0), `${kind} ${size}`).to.equal(size);
        expect(chunks.filter((c) => !(c.length > 0 && c.length <= 65_536))).to.deep.equal([]);
      }
    }
  });

  it('is the same for a seed and path, different for another seed or path', function () {
    const body = whole('s', '/a', 5000, 'binary');
    expect(whole('s', '/a', 5000, 'binary')).to.deep.equal(body);
    expect(whole('t', '/a', 5000, 'binary')).to.not.deep.equal(body);
    expect(whole('s', '/b', 5000, 'binary')).to.not.deep.equal(body);
  });

  it('makes text bodies printable and binary bodies use every byte value', function () {
    const text = whole('s', '/t', 100_000, 'text');
    expect(text.toString('latin1')).to.match(/^[A-Za-z0-9+/]*$/);
    const binary = whole('s', '/b', 100_000, 'binary');
    expect(new Set(binary).size).to.equal(256);
  });

  it('hashes what it serves', function () {
    const body = whole('s', '/h', 150_000, 'text');
    expect(bodySha256('s', { path: '/h', size: 150_000, kind: 'text' })).to.equal(sha256(body));
  });
});
