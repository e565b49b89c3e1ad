import { expect } from 'chai';
import { SeenKeyLines } from '../../stitcher/ingest/seen-key-lines.js';
import { floodLine } from '../support/hostile-objects.js';

describe('SeenKeyLines', () => {
  it('over a long polling run of 300,000 lines stays within its count bound and still knows recent repeats', () => {
    let nowMs = 1_700_000_000_000;
    const seen = new SeenKeyLines({ maxLines: 20_000, maxAgeMs: 3_600_000, nowMs: () => nowMs });
    let largest = 0;
    const newTwice: number[] = [];
    const repeatsMissed: number[] = [];
    for (let i = 0; i < 300_000; i++) {
      nowMs += 5; // 25 minutes of wall time in all: the count bound is what holds here
      if (!seen.firstSighting(floodLine(i))) newTwice.push(i);
      if (i >= 100 && i % 97 === 0 && seen.firstSighting(floodLine(i - 100))) repeatsMissed.push(i - 100);
      largest = Math.max(largest, seen.size);
    }
    expect(newTwice, 'new lines taken for repeats').to.deep.equal([]);
    expect(repeatsMissed, 'repeats within the window taken for new lines').to.deep.equal([]);
    expect(largest).to.equal(20_000);
    expect(seen.forgotten).to.equal(300_000 - 20_000);
    // Long forgotten: a line from the start is new again (exported once more, which costs nothing).
    expect(seen.firstSighting(floodLine(0)), 'line 0, long forgotten').to.equal(true);
  });

  it('forgets sightings older than its age bound, however few', () => {
    let nowMs = 0;
    const seen = new SeenKeyLines({ maxLines: 1_000_000, maxAgeMs: 60_000, nowMs: () => nowMs });
    for (let i = 0; i < 1000; i++) seen.firstSighting(floodLine(i));
    nowMs += 30_000;
    expect(seen.firstSighting(floodLine(5)), 'a repeat within the window').to.equal(false);
    expect(seen.firstSighting(floodLine(1000)), 'line 1000, never seen').to.equal(true);
    nowMs += 45_000; // 75 s after the first thousand, 45 s after line 1000
    expect(seen.firstSighting(floodLine(2000)), 'line 2000, never seen').to.equal(true);
    expect(seen.size).to.equal(2);
    expect(seen.firstSighting(floodLine(1000)), 'line 1000, seen 45 s ago').to.equal(false);
    expect(seen.firstSighting(floodLine(5)), 'forgotten with its age').to.equal(true);
  });
});
