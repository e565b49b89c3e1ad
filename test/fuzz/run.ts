/**
 * `make fuzz`: each target for FUZZ_SECONDS (default 60) after replaying its
 * corpus. A finding is shrunk, saved under test/fuzz/findings/ and makes the
 * exit code 1; see test/fuzz/README.md for turning it into a regression input.
 */
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';
import { fuzzFor, loadCorpus, replayCorpus, saveFinding } from './harness.js';
import { FUZZ_TARGETS } from './targets/index.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? '60');
const only = process.env.FUZZ_TARGETS?.split(',').filter((name) => name !== '');
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error(`fuzz: FUZZ_SECONDS '${process.env.FUZZ_SECONDS}' is not a positive number`);
  process.exit(2);
}

let findings = 0;
for (const target of FUZZ_TARGETS.filter((t) => only === undefined || only.includes(t.name))) {
  const corpus = await loadCorpus(join(projectRoot, 'test', 'fuzz', 'corpus', target.name));
  try {
    await replayCorpus(target, corpus);
  } catch (error) {
    findings++;
    console.log(`fuzz ${target.name}: a corpus input fails (a regression)\n${(error as Error).stack ?? String(error)}`);
    continue;
  }
  const report = await fuzzFor(target, corpus, seconds, seed);
  if (report.finding === undefined) {
    console.log(`fuzz ${target.name}: ${report.runs} inputs in ${seconds} s (corpus of ${corpus.length}), no finding`);
    continue;
  }
  findings++;
  const saved = await saveFinding(join(projectRoot, 'test', 'fuzz', 'findings'), report);
  console.log(`fuzz ${target.name}: FINDING after ${report.runs} inputs (${report.replay}), saved as ${saved}\n${report.error}`);
}
process.exit(findings > 0 ? 1 : 0);
