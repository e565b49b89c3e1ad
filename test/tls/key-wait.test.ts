import { expect } from 'chai';
import { DEFAULT_KEY_WAIT_MS } from '../../contract/stitcher-config.js';
import { KeyWait } from '../../stitcher/tls/key-wait.js';

const MS = 1_000_000n;

/** A KeyWait over named flows that records which gave up, forgetting them as an owner does. */
function waitOf(limits: ConstructorParameters<typeof KeyWait<string>>[0]): { wait: KeyWait<string>; gaveUp: string[] } {
  const gaveUp: string[] = [];
  const wait: KeyWait<string> = new KeyWait<string>(limits, (flow) => {
    gaveUp.push(flow);
    wait.forget(flow);
  });
  return { wait, gaveUp };
}

describe('tls/key-wait', () => {
  it('gives up a flow that waited longer than keyWaitMs, looking at most every 100 ms', () => {
    const { wait, gaveUp } = waitOf({ keyWaitMs: 1000 });
    wait.wait('a', 'ra', 0n);
    wait.wait('b', 'rb', 500n * MS);
    wait.sweep(950n * MS);
    expect(gaveUp).to.deep.equal([]);
    wait.sweep(1001n * MS);
    expect(gaveUp, 'swept 51 ms after the last look: not yet').to.deep.equal([]);
    wait.sweep(1051n * MS);
    expect(gaveUp).to.deep.equal(['a']);
    wait.sweep(1600n * MS);
    expect(gaveUp).to.deep.equal(['a', 'b']);
  });

  it('gives up at the next sweep a flow that began waiting already past its deadline, though capture time stands still', () => {
    // read behind the rest (an older hour of another gateway): the clock has moved on and may not move again
    const { wait, gaveUp } = waitOf({ keyWaitMs: 1000 });
    wait.wait('fresh', 'rf', 10_000n * MS);
    wait.sweep(10_000n * MS);
    wait.wait('behind', 'rb', 1_000n * MS);
    wait.wait('recent', 'rr', 9_500n * MS);
    wait.sweep(10_000n * MS);
    expect(gaveUp, 'only the one past its deadline').to.deep.equal(['behind']);
  });

  it('waits DEFAULT_KEY_WAIT_MS by default', () => {
    const { wait, gaveUp } = waitOf({});
    wait.wait('a', 'ra', 0n);
    wait.sweep(BigInt(DEFAULT_KEY_WAIT_MS) * MS);
    expect(gaveUp).to.deep.equal([]);
    wait.sweep(BigInt(DEFAULT_KEY_WAIT_MS) * MS + 200n * MS);
    expect(gaveUp).to.deep.equal(['a']);
  });

  it('gives up a waiting flow past keyWaitBytes at once; a flow not waiting yet only counts', () => {
    const { wait, gaveUp } = waitOf({ keyWaitBytes: 100 });
    wait.hold('classifying', 500);
    expect(gaveUp).to.deep.equal([]);
    wait.wait('a', 'ra', 0n);
    wait.hold('a', 100);
    expect(gaveUp).to.deep.equal([]);
    wait.hold('a', 101);
    expect(gaveUp).to.deep.equal(['a']);
  });

  it('past maxHeldBytes gives up the flows that waited longest until the rest fit', () => {
    const { wait, gaveUp } = waitOf({ maxHeldBytes: 1000 });
    wait.wait('newest', 'r1', 3n * MS);
    wait.wait('oldest', 'r2', 1n * MS);
    wait.wait('middle', 'r3', 2n * MS);
    wait.hold('newest', 400);
    wait.hold('oldest', 400);
    wait.hold('middle', 400);
    expect(gaveUp, 'by how long they waited, not by when they were added').to.deep.equal(['oldest']);
    wait.forget('middle');
    wait.hold('newest', 1100);
    expect(gaveUp).to.deep.equal(['oldest', 'newest']);
  });

  it('finds the flows waiting for a client random, and forgets what it is told to', () => {
    const { wait } = waitOf({});
    wait.wait('a', 'r', 0n);
    wait.wait('b', 'r', 0n);
    wait.wait('c', 'other', 0n);
    expect(wait.withRandom('r')).to.deep.equal(['a', 'b']);
    wait.forget('a');
    expect(wait.withRandom('r')).to.deep.equal(['b']);
    expect(wait.size).to.equal(2);
    expect(wait.isWaiting('a')).to.equal(false);
  });
});
