/**
 * The fuzz targets in CI: every corpus and regression input once, then each target
 * briefly (FUZZ_TEST_SECONDS, default 3) under Jazzer.js, coverage-guided, when
 * bin/install-fuzzer has installed it; else under the randomized fast-check loop of
 * harness.ts, which the titles and a warning say. `make fuzz` runs them longer.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledRoot, projectRoot } from '../support/paths.js';
import { fuzzFor, loadCorpus, replayCorpus, type FuzzTarget } from './harness.js';
import { installedJazzer, returnsPromise, runJazzer, targetFile, type JazzerRun } from './jazzer.js';
import { fuzz as fuzzFlowTable } from './targets/flow-table.js';
import { FUZZ_TARGETS } from './targets/index.js';

const SECONDS = Number(process.env.FUZZ_TEST_SECONDS ?? '3');
const corpusOf = (name: string): Promise<Buffer[]> => loadCorpus(join(projectRoot, 'test', 'fuzz', 'corpus', name));
const jazzer = installedJazzer();

/** The end of libFuzzer's output, for an assertion message. */
const tail = (run: JazzerRun): string => run.output.split('\n').slice(-25).join('\n');

async function inScratchFolder<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-fuzz-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fuzzWithJazzer(cli: string, target: FuzzTarget): Promise<void> {
  const run = await inScratchFolder((work) => runJazzer(cli, {
    targetFile: targetFile(target), workCorpus: work, seedCorpus: join(projectRoot, 'test', 'fuzz', 'corpus', target.name),
    seconds: SECONDS, findingsDir: join(projectRoot, 'test', 'fuzz', 'findings'), findingPrefix: `${target.name}-`,
    sync: !returnsPromise(target), ...(target.maxLength !== undefined ? { maxLength: target.maxLength } : {}),
  }));
  expect(run.exitCode, `Jazzer.js on ${target.name}: a finding, saved as ${run.finding}\n${tail(run)}`).to.equal(0);
  expect(run.initialCoverage, `instrumented edges reached by the corpus\n${tail(run)}`).to.be.greaterThan(0);
  expect(run.runs, `inputs run\n${tail(run)}`).to.be.greaterThan(100);
}

async function fuzzWithFastCheck(target: FuzzTarget, corpus: readonly Buffer[]): Promise<void> {
  const report = await fuzzFor(target, corpus, SECONDS);
  expect(report.runs).to.be.greaterThan(100);
  expect(report.finding?.toString('hex'), `${report.error} (${report.replay})`).to.equal(undefined);
}

const engine = jazzer !== undefined ? 'Jazzer.js, coverage-guided' : 'fast-check, randomized: Jazzer.js is not installed (bin/install-fuzzer)';
describe(`fuzz targets (${engine})`, function () {
  this.timeout(120_000 + SECONDS * 2000);
  if (jazzer === undefined) console.warn(`fuzz targets: ${engine}, so NOT coverage-guided`);

  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: every corpus input, then ${SECONDS} s of fuzzing, without a finding`, async () => {
      const corpus = await corpusOf(target.name);
      expect(corpus.length, 'a seed corpus').to.be.greaterThan(0);
      await replayCorpus(target, corpus);
      await (jazzer !== undefined ? fuzzWithJazzer(jazzer, target) : fuzzWithFastCheck(target, corpus));
    });
  }

  if (jazzer !== undefined) {
    it('Jazzer.js reaches a bug behind two 4-byte comparisons (one input in 2^64) from nothing, saving the input', async () => {
      const run = await inScratchFolder(async (scratch) => {
        const result = await runJazzer(jazzer, {
          targetFile: join(compiledRoot, 'test', 'fuzz', 'planted-bug.js'), workCorpus: join(scratch, 'corpus'),
          seconds: 60, findingsDir: join(scratch, 'findings'), findingPrefix: 'planted-', sync: true,
        });
        return { ...result, saved: result.finding !== undefined ? await readFile(result.finding) : undefined };
      });
      expect(run.exitCode, tail(run)).to.equal(77);
      expect(run.output).to.contain('planted bug reached');
      expect(run.saved?.subarray(0, 8).toString('latin1'), 'the saved input').to.equal('CTAP-BUG');
      expect(run.finalCoverage, 'edges reached on the way').to.be.greaterThan(run.initialCoverage ?? 0);
    });
  } else {
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
  }

  it('flow-table findings stay fixed: positions past 2^53 and a GAP near 2^64 past the FLOW_CLOSE length are refused as invalid records', async () => {
    const findings = await loadCorpus(join(projectRoot, 'test', 'fuzz', 'corpus', 'flow-table'));
    expect(findings.length, 'the corpus holds the two findings').to.be.greaterThan(4);
    for (const input of findings) fuzzFlowTable(input);
  });
});
