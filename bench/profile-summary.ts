/**
 * Where the time goes: a V8 CPU profile (node --cpu-prof) summarised as the
 * functions with the most self time, and the same by source file, so that a
 * goal the bench misses comes with its profile rather than a guess.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: readonly SelfTime[];
  readonly files: readonly SelfTime[];
}

/** `file:///…/dist/stitcher/flow/x.js` → `stitcher/flow/x.js`; node internals keep their `node:` name. */
function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 6);
  const modules = url.lastIndexOf('/node_modules/');
  return modules >= 0 ? url.slice(modules + 14) : url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, totalMs: number, count: number): SelfTime[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
}

/** Summarises one profile: self time per function (name, file:line) and per file, microseconds from the sample deltas. */
export function summariseProfile(profile: CpuProfile, count = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    totalMs += ms;
    const file = shortUrl(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${file}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    files.set(file, (files.get(file) ?? 0) + ms);
  });
  return { totalMs, functions: top(functions, totalMs, count), files: top(files, totalMs, 8) };
}

/** The summary of the one .cpuprofile node wrote into `dir`. */
export function summariseProfileDir(dir: string, count = 12): ProfileSummary {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile written into ${dir}`);
  return summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, count);
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const row = (entry: SelfTime): string => `|   ${(entry.share * 100).toFixed(1).padStart(5)} % | ${entry.ms.toFixed(0).padStart(6)} ms | ${entry.name} |`;
  return [
    `where the time goes: ${title} (node --cpu-prof, ${summary.totalMs.toFixed(0)} ms sampled, top functions by self time)`,
    '| self | ms | function |',
    ...summary.functions.map(row),
    '| self | ms | by file |',
    ...summary.files.map(row),
  ].join('\n');
}
