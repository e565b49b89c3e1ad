import { expect } from 'chai';
import { VirtualClock, hourOf } from '../../stitcher/generator/clock.js';

describe('generator: VirtualClock', function () {
  it('starts at startNs and only moves forward', function () {
    const clock = new VirtualClock({ startNs: 1_000_000_000n, timeScale: 0 });
    const readings = Array.from({ length: 100 }, () => clock.now());
    expect(readings[0]).to.equal(1_000_000_000n);
    for (let i = 1; i < readings.length; i++) expect(readings[i]! > readings[i - 1]!, `reading ${i}: ${readings[i]} after ${readings[i - 1]}`).to.equal(true);
  });

  it('moves by nsPerByte for tapped bytes, so runs cross an hour where asked', function () {
    const hour = 3_600_000_000_000n;
    const clock = new VirtualClock({ startNs: 10n * hour - 500n, timeScale: 0, nsPerByte: 1 });
    expect(hourOf(clock.now())).to.equal(9n);
    clock.advanceBytes(1000);
    expect(clock.now()).to.equal(10n * hour + 500n);
    expect(hourOf(clock.now())).to.equal(10n);
  });
});
