/**
 * The shard assignment both sides compute (contract/shard-assignment.ts): at
 * every count the operator can run, every gateway has exactly one owner as
 * each shard judges by its own index and modulus, the global function agrees,
 * and a scale by one changes the modulus of exactly one shard that stays.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { MAX_SHARDS } from '../../contract/limits.js';
import { assignmentOf, checkAssignment, ownsGateway, shardOfGateway } from '../../contract/shard-assignment.js';

const gateways = Array.from({ length: 3000 }, (_, i) => `gw-${i}.pop-${i % 13}.example`);
const counts = Array.from({ length: MAX_SHARDS }, (_, i) => i + 1);

describe('contract/shard-assignment', () => {
  it(`gives every gateway exactly one owner at every count from 1 to ${MAX_SHARDS}, the one shardOfGateway names`, () => {
    for (const count of counts) {
      const assignments = Array.from({ length: count }, (_, index) => assignmentOf(index, count));
      for (const gateway of gateways) {
        const owners = assignments.filter((assignment) => ownsGateway(assignment, gateway)).map((assignment) => assignment.index);
        expect(owners, `${gateway} at ${count}`).to.deep.equal([shardOfGateway(gateway, count)]);
      }
    }
  });

  it('changes the modulus of exactly one remaining shard when the count grows or shrinks by one', () => {
    for (const count of counts.slice(0, -1)) {
      const moved = Array.from({ length: count }, (_, index) => index).filter((index) => assignmentOf(index, count).modulus !== assignmentOf(index, count + 1).modulus);
      expect(moved, `${count} <-> ${count + 1}`).to.have.length(1);
      // Only gateways of that shard move, and only to the new shard.
      for (const gateway of gateways) {
        const [from, to] = [shardOfGateway(gateway, count), shardOfGateway(gateway, count + 1)];
        if (from !== to) expect([from, to], gateway).to.deep.equal([moved[0], count]);
      }
    }
  });

  it('gives no shard more than twice the share of another', () => {
    for (const count of [3, 5, 6, 7, 12]) {
      const shares = Array.from({ length: count }, (_, index) => 1 / assignmentOf(index, count).modulus);
      expect(shares.reduce((a, b) => a + b)).to.be.closeTo(1, 1e-9);
      expect(Math.max(...shares) / Math.min(...shares)).to.be.at.most(2);
    }
  });

  it('agrees with zlib.crc32 as Python computes it (linear hashing at 3 shards: mod 4, unsplit shard mod 2)', () => {
    const python = execFileSync('python3', ['-c', [
      'import sys, zlib',
      'names = sys.stdin.read().split()',
      'print(" ".join(str(h % 4 if h % 4 < 3 else h % 2) for h in (zlib.crc32(n.encode()) for n in names)))',
    ].join('\n')], { input: gateways.slice(0, 200).join('\n') }).toString().trim().split(' ').map(Number);
    expect(gateways.slice(0, 200).map((g) => shardOfGateway(g, 3))).to.deep.equal(python);
    expect(shardOfGateway('gw-a1', 3)).to.equal(2);
  });

  it('refuses a modulus that is not a power of two above the index, and a count below one', () => {
    expect(() => checkAssignment({ index: 1, modulus: 3 })).to.throw(/modulus 3 is not a power of two/);
    expect(() => checkAssignment({ index: 4, modulus: 4 })).to.throw(/index 4 is not from 0 to 3/);
    expect(() => assignmentOf(0, 0)).to.throw(RangeError);
  });
});
