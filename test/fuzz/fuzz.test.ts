/**
 * The fuzz targets in CI: every corpus and regression input once, then each target
 * briefly on random and mutated inputs (FUZZ_TEST_SECONDS, default 3). `make fuzz`
 * runs them longer. Randomized with fast-check, not coverage-guided: see harness.ts.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';
import { fuzzFor, loadCorpus, replayCorpus, type FuzzTarget } from './harness.js';
import { fuzz as fuzzFlowTable } from './targets/flow-table.js';
import { FUZZ_TARGETS } from './targets/index.js';

const SECONDS = Number(process.env.FUZZ_TEST_SECONDS ?? '3');
const corpusOf = (name: string): Promise<Buffer[]> => loadCorpus(join(projectRoot, 'test', 'fuzz', 'corpus', name));

describe('fuzz targets (randomized, fast-check)', function () {
  this.timeout(60_000 + SECONDS * 2000);

  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: every corpus input, then ${SECONDS} s of random and mutated inputs, without a finding`, async () => {
      const corpus = await corpusOf(target.name);
      expect(corpus.length, 'a seed corpus').to.be.greaterThan(0);
      await replayCorpus(target, corpus);
      const report = await fuzzFor(target, corpus, SECONDS);
      expect(report.runs).to.be.greaterThan(100);
      expect(report.finding?.toString('hex'), `${report.error} (${report.replay})`).to.equal(undefined);
    });
  }

  it('finds a broken invariant: a reader target that refuses any damage fails on the truncated seed', async () => {
    const [reader] = FUZZ_TARGETS;
    const strict: FuzzTarget = {
      name: 'strict-reader',
      fuzz: async (data) => {
        await reader!.fuzz(data);
        if (data.length < 200) throw new Error('pretend finding: short input');
      },
    };
    const report = await fuzzFor(strict, await corpusOf('reader'), 10);
    expect(report.finding, 'the loop reports, shrunk').to.not.equal(undefined);
    expect(report.finding!.length).to.be.below(200);
  });

  it('flow-table findings stay fixed: positions past 2^53 and a GAP near 2^64 past the FLOW_CLOSE length are refused as invalid records', async () => {
    const findings = await loadCorpus(join(projectRoot, 'test', 'fuzz', 'corpus', 'flow-table'));
    expect(findings.length, 'the corpus holds the two findings').to.be.greaterThan(4);
    for (const input of findings) fuzzFlowTable(input);
  });
});
