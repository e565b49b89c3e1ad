import { expect } from 'chai';
import { SeededRandom } from '../../stitcher/generator/random.js';

describe('generator: SeededRandom', function () {
  it('repeats its sequence for a seed and differs for another', function () {
    const draw = (seed: string | number): number[] => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 16 }, () => random.next());
    };
    expect(draw('a')).to.deep.equal(draw('a'));
    expect(draw(7)).to.deep.equal(draw(7));
    expect(draw('a')).to.not.deep.equal(draw('b'));
  });

  it('forks generators that depend on the seed and label, not on earlier draws', function () {
    const used = new SeededRandom('x');
    for (let i = 0; i < 10; i++) used.next();
    const fork = new SeededRandom('x').fork('flow-1').bytes(8);
    expect(used.fork('flow-1').bytes(8)).to.deep.equal(fork);
    expect(used.fork('flow-2').bytes(8)).to.not.deep.equal(fork);
    expect(new SeededRandom('y').fork('flow-1').bytes(8)).to.not.deep.equal(fork);
  });

  it('draws integers within bounds, both ends reached, roughly uniformly', function () {
    const random = new SeededRandom(3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 6000; i++) {
      const value = random.int(1, 6);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).to.deep.equal([1, 2, 3, 4, 5, 6]);
    for (const count of counts.values()) expect(count).to.be.within(800, 1200);
  });

  it('shuffles into a permutation of the same items', function () {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new SeededRandom(5).shuffle([...items]);
    expect(shuffled).to.not.deep.equal(items);
    expect([...shuffled].sort((a, b) => a - b)).to.deep.equal(items);
  });
});
