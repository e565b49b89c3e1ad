import { expect } from 'chai';
import { TimeQueue } from '../../stitcher/flow/time-queue.js';

describe('flow/time-queue', () => {
  it('always pops the earliest item held, with pushes and pops interleaved', () => {
    const queue = new TimeQueue<bigint>();
    const held: bigint[] = [];
    let s = 12345;
    const rand = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % 1000; };
    const popAndCheck = () => {
      const earliest = held.reduce((m, t) => (t < m ? t : m));
      expect(queue.pop()).to.equal(earliest);
      held.splice(held.indexOf(earliest), 1);
    };
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) {
        const ts = BigInt(rand());
        queue.push(ts, ts);
        held.push(ts);
      }
      for (let i = 0; i < 10; i++) popAndCheck();
    }
    while (held.length > 0) popAndCheck();
    expect(queue.size).to.equal(0);
    expect(queue.pop()).to.equal(undefined);
  });

  it('pops exactly the sorted order when everything is pushed first', () => {
    const queue = new TimeQueue<string>();
    const times = [5n, 3n, 9n, 1n, 7n, 3n, 8n, 2n, 6n, 4n, 0n];
    times.forEach((ts) => queue.push(`t${ts}`, ts));
    const out: string[] = [];
    for (let item = queue.pop(); item !== undefined; item = queue.pop()) out.push(item);
    expect(out).to.deep.equal([...times].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map((ts) => `t${ts}`));
  });
});
