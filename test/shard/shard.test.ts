/** Shard ownership: a stable, documented hash every language can recompute. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { checkShard, ownsGateway, shardOfGateway } from '../../stitcher/shard/shard.js';

describe('pipeline/shard', () => {
  const gateways = Array.from({ length: 200 }, (_, i) => `gw-${i}.pop-${i % 7}`);

  it('agrees with zlib.crc32 of the UTF-8 name under linear hashing (3 shards: mod 4, the unsplit shard 1 mod 2), as Python computes it', () => {
    const python = execFileSync('python3', ['-c', [
      'import sys, zlib',
      'names = sys.stdin.read().split()',
      'print(" ".join(str(h % 4 if h % 4 < 3 else h % 2) for h in (zlib.crc32(n.encode()) for n in names)))',
    ].join('\n')], { input: gateways.join('\n') }).toString().trim().split(' ').map(Number);
    expect(gateways.map((g) => shardOfGateway(g, 3))).to.deep.equal(python);
  });

  it('gives every gateway to exactly one shard, and spreads them', () => {
    for (const count of [1, 2, 3, 5]) {
      const per = Array.from({ length: count }, (_, index) => gateways.filter((g) => ownsGateway({ index, count }, g)));
      expect(per.flat().sort()).to.deep.equal([...gateways].sort());
      // Linear hashing: a shard's share is 1/count to 1/(2 count) (docs/shards.md); half of the smaller, for chance.
      for (const owned of per) expect(owned.length).to.be.greaterThan(200 / count / 4);
    }
  });

  it('refuses an index outside the count and a count below one', () => {
    expect(() => checkShard({ index: 3, count: 3 })).to.throw(/shard index 3 is not from 0 to 2/);
    expect(() => shardOfGateway('gw', 0)).to.throw(RangeError);
  });
});
