/**
 * Runs a fuzz target under Jazzer.js: coverage-guided (libFuzzer), as installed by
 * bin/install-fuzzer into the cache. What libFuzzer prints is read back for its
 * coverage (`cov:`, the instrumented edges reached) and the input it saved on a finding.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledRoot, nodeBinary, projectRoot } from '../support/paths.js';
import type { FuzzTarget } from './harness.js';

/** Jazzer.js's command line, if bin/install-fuzzer has installed it (asking the script where, installing nothing). */
export function installedJazzer(): string | undefined {
  const dir = execFileSync(join(projectRoot, 'bin', 'install-fuzzer'), ['--where'], { encoding: 'utf8' }).trim();
  return existsSync(join(dir, 'installed')) ? join(dir, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js') : undefined;
}

export interface JazzerOptions {
  /** The compiled module exporting `fuzz(data)`. */
  readonly targetFile: string;
  /** Where libFuzzer keeps the inputs that reached new coverage (it writes there). */
  readonly workCorpus: string;
  /** Seed inputs, read only. */
  readonly seedCorpus?: string;
  readonly seconds: number;
  /** A finding is saved as `<findingsDir>/<prefix>crash-<sha1>`. */
  readonly findingsDir: string;
  readonly findingPrefix: string;
  /** libFuzzer's synchronous loop, for targets that return no promise (faster). */
  readonly sync: boolean;
  readonly maxLength?: number;
  readonly seed?: number;
  /** Copies libFuzzer's output to stderr as it comes (`make fuzz`). */
  readonly echo?: boolean;
}

export interface JazzerRun {
  /** 0: no finding; 77: a finding (Jazzer.js's exit code). */
  readonly exitCode: number | null;
  readonly output: string;
  /** Edges covered after the seed corpus ran, and at the end. */
  readonly initialCoverage?: number;
  readonly finalCoverage?: number;
  readonly runs?: number;
  /** The saved input of a finding. */
  readonly finding?: string;
}

export async function runJazzer(cli: string, options: JazzerOptions): Promise<JazzerRun> {
  await mkdir(options.workCorpus, { recursive: true });
  await mkdir(options.findingsDir, { recursive: true });
  const libFuzzerFlags = [
    `-max_total_time=${options.seconds}`,
    `-max_len=${options.maxLength ?? 4096}`,
    `-artifact_prefix=${join(options.findingsDir, options.findingPrefix)}`,
    ...(options.seed !== undefined ? [`-seed=${options.seed}`] : []),
  ];
  const args = [cli, options.targetFile, options.workCorpus, ...(options.seedCorpus !== undefined ? [options.seedCorpus] : []), ...(options.sync ? ['--sync'] : []), '--', ...libFuzzerFlags];
  const output = await collect(args, options.echo ?? false, (options.seconds + 120) * 1000);
  return { ...output, ...readLibFuzzerOutput(output.output) };
}

function collect(args: readonly string[], echo: boolean, timeoutMs: number): Promise<Pick<JazzerRun, 'exitCode' | 'output'>> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const keep = (chunk: Buffer): void => {
      chunks.push(chunk);
      if (echo) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      // libFuzzer's stdout and stderr interleave: whatever is printed next starts on a line of its own.
      if (echo && !output.endsWith('\n')) process.stderr.write('\n');
      resolve({ exitCode, output });
    });
  });
}

/** libFuzzer's status lines: `#<runs>\tINITED cov: <edges> ft: ...`, then NEW/REDUCE/pulse lines, `Done <runs> runs`. */
export function readLibFuzzerOutput(output: string): Pick<JazzerRun, 'initialCoverage' | 'finalCoverage' | 'runs' | 'finding'> {
  const coverage = [...output.matchAll(/^#(\d+)\s+(\w+)\s+cov: (\d+)/gm)];
  const inited = coverage.find((line) => line[2] === 'INITED');
  const last = coverage.at(-1);
  const done = /^Done (\d+) runs/m.exec(output);
  const finding = /Test unit written to (\S+)/.exec(output);
  return {
    ...(inited !== undefined ? { initialCoverage: Number(inited[3]) } : {}),
    ...(last !== undefined ? { finalCoverage: Number(last[3]) } : {}),
    ...(done !== null ? { runs: Number(done[1]) } : last !== undefined ? { runs: Number(last[1]) } : {}),
    ...(finding !== null ? { finding: finding[1]! } : {}),
  };
}

/** The compiled file of a target in targets/. */
export function targetFile(target: FuzzTarget): string {
  return join(compiledRoot, 'test', 'fuzz', 'targets', `${target.name}.js`);
}

/** libFuzzer's synchronous loop cannot wait for a promise: async targets need Jazzer.js's asynchronous mode. */
export function returnsPromise(target: FuzzTarget): boolean {
  return target.fuzz.constructor.name === 'AsyncFunction';
}
