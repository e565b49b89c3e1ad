/**
 * `make fuzz`: each target for FUZZ_SECONDS (default 60) after replaying its corpus,
 * under Jazzer.js (coverage-guided, installed by bin/install-fuzzer), or, where it
 * is not installed, under the randomized fast-check loop of harness.ts (said so).
 * A finding is saved under test/fuzz/findings/ and makes the exit code 1; see
 * test/fuzz/README.md for turning it into a regression input.
 */
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';
import { fuzzFor, loadCorpus, replayCorpus, saveFinding, type FuzzTarget } from './harness.js';
import { installedJazzer, returnsPromise, runJazzer, targetFile } from './jazzer.js';
import { FUZZ_TARGETS } from './targets/index.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? '60');
const only = process.env.FUZZ_TARGETS?.split(',').filter((name) => name !== '');
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error(`fuzz: FUZZ_SECONDS '${process.env.FUZZ_SECONDS}' is not a positive number`);
  process.exit(2);
}
const findingsDir = join(projectRoot, 'test', 'fuzz', 'findings');
const corpusDir = (target: FuzzTarget): string => join(projectRoot, 'test', 'fuzz', 'corpus', target.name);

/** Under Jazzer.js; the inputs it finds new coverage with grow .build/fuzz-corpus/<target>/ from run to run. */
async function fuzzWithJazzer(cli: string, target: FuzzTarget): Promise<boolean> {
  const run = await runJazzer(cli, {
    targetFile: targetFile(target), seedCorpus: corpusDir(target), workCorpus: join(projectRoot, '.build', 'fuzz-corpus', target.name),
    seconds, findingsDir, findingPrefix: `${target.name}-`, sync: !returnsPromise(target), echo: true,
    ...(target.maxLength !== undefined ? { maxLength: target.maxLength } : {}), ...(seed !== undefined ? { seed } : {}),
  });
  const coverage = `coverage ${run.initialCoverage ?? '?'} -> ${run.finalCoverage ?? '?'} edges`;
  if (run.exitCode === 0) {
    console.log(`fuzz ${target.name}: Jazzer.js, ${run.runs ?? '?'} inputs in ${seconds} s, ${coverage}, no finding`);
    return false;
  }
  console.log(`fuzz ${target.name}: Jazzer.js FINDING (exit ${run.exitCode}), ${coverage}, saved as ${run.finding ?? '(none: see the output above)'}`);
  return true;
}

async function fuzzWithFastCheck(target: FuzzTarget, corpus: readonly Buffer[]): Promise<boolean> {
  const report = await fuzzFor(target, corpus, seconds, seed);
  if (report.finding === undefined) {
    console.log(`fuzz ${target.name}: fast-check, ${report.runs} inputs in ${seconds} s (corpus of ${corpus.length}), no finding`);
    return false;
  }
  const saved = await saveFinding(findingsDir, report);
  console.log(`fuzz ${target.name}: FINDING after ${report.runs} inputs (${report.replay}), saved as ${saved}\n${report.error}`);
  return true;
}

const jazzer = installedJazzer();
if (jazzer === undefined) {
  console.log('fuzz: Jazzer.js is not installed (bin/install-fuzzer): randomized fast-check loop, NOT coverage-guided');
}
let findings = 0;
for (const target of FUZZ_TARGETS.filter((t) => only === undefined || only.includes(t.name))) {
  const corpus = await loadCorpus(corpusDir(target));
  try {
    await replayCorpus(target, corpus);
  } catch (error) {
    findings++;
    console.log(`fuzz ${target.name}: a corpus input fails (a regression)\n${(error as Error).stack ?? String(error)}`);
    continue;
  }
  const found = jazzer !== undefined ? await fuzzWithJazzer(jazzer, target) : await fuzzWithFastCheck(target, corpus);
  if (found) findings++;
}
process.exit(findings > 0 ? 1 : 0);
