import { expect } from 'chai';
import fc from 'fast-check';
import { formatBytes, formatCount } from '../../stitcher/cli/progress.js';

describe('cli/progress', () => {
  it('formatCount writes what en-US toLocaleString writes, for any safe integer, bigint or count with a fraction', () => {
    // ICU is the reference: formatCount exists only to spare a short run its loading
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => formatCount(n) === n.toLocaleString('en-US')), { numRuns: 2000 });
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (n) => formatCount(n) === n.toLocaleString('en-US')), { numRuns: 500 });
    fc.assert(fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (n) => formatCount(n) === n.toLocaleString('en-US')), { numRuns: 2000 });
    expect([0, 999, 1000, -1000, 1234567].map((n) => formatCount(n))).to.deep.equal(['0', '999', '1,000', '-1,000', '1,234,567']);
  });

  it('formatBytes scales by 1000 with one decimal', () => {
    expect([999, 1000, 1_234_567, 5e12].map((n) => formatBytes(n))).to.deep.equal(['999 B', '1.0 KB', '1.2 MB', '5.0 TB']);
  });
});
