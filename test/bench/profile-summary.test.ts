import { expect } from 'chai';
import { formatProfile, summariseProfile } from '../../bench/profile-summary.js';

describe('bench: CPU profile summary (where the time goes when a goal is missed)', () => {
  it('adds each sample delta to the function it landed in, by self time, and by file', () => {
    const frame = (functionName: string, url: string, lineNumber: number): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });
    const summary = summariseProfile({
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1) },
        { id: 2, callFrame: frame('pushChunk', 'file:///repo/dist/stitcher/flow/direction-buffer.js', 41) },
        { id: 3, callFrame: frame('crc32', 'file:///repo/node_modules/@node-rs/crc32/index.js', 9) },
        { id: 4, callFrame: frame('release', 'file:///repo/dist/stitcher/flow/direction-buffer.js', 99) },
      ],
      samples: [2, 3, 2, 4, 1],
      timeDeltas: [3000, 1000, 3000, 2000, 1000],
    });
    expect(summary.totalMs).to.equal(10);
    expect(summary.functions.map((f) => [f.name, f.ms])).to.deep.equal([
      ['pushChunk stitcher/flow/direction-buffer.js:42', 6],
      ['release stitcher/flow/direction-buffer.js:100', 2],
      ['crc32 @node-rs/crc32/index.js:10', 1],
      ['(root) (native)', 1],
    ]);
    expect(summary.files[0]).to.deep.equal({ name: 'stitcher/flow/direction-buffer.js', ms: 8, share: 0.8 });
    expect(formatProfile('stitch', summary)).to.contain('|    60.0 % |      6 ms | pushChunk stitcher/flow/direction-buffer.js:42 |');
  });
});
