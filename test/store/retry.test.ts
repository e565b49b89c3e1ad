/** Backoff with full jitter under a cap, retries only for transient faults, deadlines per attempt. */
import { expect } from 'chai';
import { backoffDelay, withDeadline, withRetry } from '../../stitcher/store/retry.js';

const transient = (): Error => Object.assign(new Error('reset'), { code: 'ECONNRESET' });
const denied = (): Error => Object.assign(new Error('denied'), { code: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

describe('store retry', () => {
  it('grows the backoff ceiling exponentially up to the cap, with full jitter', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    const top = (retry: number): number => backoffDelay(retry, { ...options, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 9].map(top)).to.deep.equal([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, { ...options, random: () => 0 })).to.equal(0);
    const samples = Array.from({ length: 200 }, () => backoffDelay(3, options));
    expect(Math.max(...samples)).to.be.below(400);
    expect(new Set(samples).size, 'jitter spreads the waits').to.be.greaterThan(20);
  });

  it('retries transient failures until one succeeds', async () => {
    let calls = 0;
    const retried: number[] = [];
    const result = await withRetry(async () => {
      calls++;
      if (calls < 4) throw transient();
      return 'done';
    }, { baseDelayMs: 1, onRetry: (attempt) => retried.push(attempt) });
    expect(result).to.equal('done');
    expect(calls).to.equal(4);
    expect(retried).to.deep.equal([1, 2, 3]);
  });

  it('does not retry an access failure', async () => {
    let calls = 0;
    const failure = await withRetry(async () => {
      calls++;
      throw denied();
    }, { baseDelayMs: 1 }).catch((error: unknown) => error as Error);
    expect(calls).to.equal(1);
    expect(failure.message).to.equal('denied');
  });

  it('gives up after maxAttempts with the last error', async () => {
    let calls = 0;
    const failure = await withRetry(async () => {
      calls++;
      throw transient();
    }, { maxAttempts: 3, baseDelayMs: 1 }).catch((error: unknown) => error as { code?: string });
    expect(calls).to.equal(3);
    expect(failure.code).to.equal('ECONNRESET');
  });

  it('abandons an attempt at its deadline, aborts its signal and tries again', async () => {
    let calls = 0;
    let firstSignal: AbortSignal | undefined;
    const result = await withRetry((signal) => {
      calls++;
      if (calls === 1) {
        firstSignal = signal;
        return new Promise<string>(() => undefined); // a stalled request: never answers
      }
      return Promise.resolve('second');
    }, { attemptTimeoutMs: 30, baseDelayMs: 1 });
    expect(result).to.equal('second');
    expect(firstSignal?.aborted).to.equal(true);
  });

  it('hands a result that comes after the deadline to dispose', async () => {
    const disposed: string[] = [];
    const failure = await withDeadline(
      () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 40)),
      10,
      (late) => disposed.push(late),
    ).then(() => undefined, (error: unknown) => error as { code?: string });
    expect(failure?.code).to.equal('StoreTimeout');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(disposed).to.deep.equal(['late']);
  });
});
