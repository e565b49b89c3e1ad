import { expect } from 'chai';
import { WorkQueue } from '../../../operator/controller/queue.js';

describe('operator/controller/queue', () => {
  it('works a key queued many times once', async () => {
    const queue = new WorkQueue();
    const worked: string[] = [];
    for (let i = 0; i < 5; i++) queue.add('ns/a');
    queue.add('ns/b');
    const running = queue.run(async (key) => {
      worked.push(key);
      if (worked.length === 2) queue.stop();
    }, 1);
    await running;
    expect(worked.sort()).to.deep.equal(['ns/a', 'ns/b']);
  });

  it('works a key again when it was queued while being worked, never twice at once', async () => {
    const queue = new WorkQueue();
    const worked: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    queue.add('ns/a');
    await queue.run(async (key) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      worked.push(key);
      if (worked.length === 1) queue.add('ns/a');
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (worked.length === 2) queue.stop();
    }, 3);
    expect(worked).to.deep.equal(['ns/a', 'ns/a']);
    expect(maxInFlight).to.equal(1);
  });

  it('backs off exponentially up to the limit, and forgets on success', () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    const delays = [1, 2, 3, 4, 5].map(() => {
      const delay = queue.retry('ns/a');
      return delay;
    });
    expect(delays).to.deep.equal([10, 20, 40, 50, 50]);
    queue.forget('ns/a');
    expect(queue.retry('ns/a')).to.equal(10);
    queue.stop();
  });
});
