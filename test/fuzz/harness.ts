/**
 * A time-bounded fuzzing loop over byte inputs, for targets written in the entry
 * convention of Jazzer.js (`fuzz(data: Buffer)`, throwing on a finding).
 *
 * Randomized, not coverage-guided: what `make test` and `make fuzz` fall back to
 * where Jazzer.js (jazzer.ts, installed by bin/install-fuzzer) is not installed.
 * Inputs come from fast-check: random bytes, a target's own structured generator,
 * and the seed corpus mutated (bit flips, byte writes, interesting integers,
 * inserts, deletes, splices), with fast-check's shrinking to give the smallest
 * failing input. It also replays the corpus in both cases.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FuzzTarget {
  readonly name: string;
  /** Throws (or rejects) on a finding: a broken invariant or an undocumented error. */
  fuzz(data: Buffer): void | Promise<void>;
  /** Inputs built to the target's grammar, so that random runs get past its first checks. */
  readonly structured?: fc.Arbitrary<Uint8Array>;
  /** Largest random input. @default 4096 */
  readonly maxLength?: number;
}

export interface FuzzReport {
  readonly target: string;
  readonly runs: number;
  /** The smallest failing input found, if any. */
  readonly finding?: Buffer;
  readonly error?: string;
  /** fast-check's seed and path: replays the run. */
  readonly replay?: string;
}

const INTERESTING: readonly bigint[] = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 0x800000n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffffffen, 0xffffffffffffffffn];

type Mutation = (bytes: Buffer, corpus: readonly Buffer[]) => Buffer;

/** One mutation, drawn by fast-check (so a failing input shrinks to fewer, simpler mutations). */
function mutation(): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 0, max: 7 })).map(([i, bit]): Mutation => (b) => {
      if (b.length === 0) return b;
      const c = Buffer.from(b);
      c[i % c.length]! ^= 1 << bit;
      return c;
    }),
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, value]): Mutation => (b) => {
      if (b.length === 0) return b;
      const c = Buffer.from(b);
      c[i % c.length] = value;
      return c;
    }),
    fc.tuple(at, fc.constantFrom(1, 2, 4, 8), fc.constantFrom(...INTERESTING)).map(([i, width, value]): Mutation => (b) => {
      if (b.length < width) return b;
      const c = Buffer.from(b);
      const offset = i % (c.length - width + 1);
      const masked = value & ((1n << BigInt(width * 8)) - 1n);
      for (let k = 0; k < width; k++) c[offset + k] = Number((masked >> BigInt(8 * k)) & 0xffn);
      return c;
    }),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([i, insert]): Mutation => (b) => {
      const offset = b.length === 0 ? 0 : i % (b.length + 1);
      return Buffer.concat([b.subarray(0, offset), insert, b.subarray(offset)]);
    }),
    fc.tuple(at, fc.integer({ min: 1, max: 64 })).map(([i, length]): Mutation => (b) => {
      if (b.length === 0) return b;
      const offset = i % b.length;
      return Buffer.concat([b.subarray(0, offset), b.subarray(offset + length)]);
    }),
    fc.tuple(at, at, at).map(([i, j, k]): Mutation => (b, corpus) => {
      const other = corpus[j % Math.max(1, corpus.length)] ?? b;
      const offset = b.length === 0 ? 0 : i % b.length;
      const from = other.length === 0 ? 0 : k % other.length;
      return Buffer.concat([b.subarray(0, offset), other.subarray(from)]);
    }),
  );
}

/** Inputs: random bytes, the target's structured ones, and mutated corpus entries. */
export function inputs(target: FuzzTarget, corpus: readonly Buffer[]): fc.Arbitrary<Uint8Array> {
  const sources: fc.Arbitrary<Uint8Array>[] = [fc.uint8Array({ maxLength: target.maxLength ?? 4096 })];
  if (target.structured !== undefined) sources.push(target.structured);
  const bases: fc.Arbitrary<Buffer>[] = [];
  if (corpus.length > 0) bases.push(fc.constantFrom(...corpus));
  if (target.structured !== undefined) bases.push(target.structured.map((bytes) => Buffer.from(bytes)));
  if (bases.length > 0) {
    const mutated = fc.tuple(fc.oneof(...bases), fc.array(mutation(), { minLength: 1, maxLength: 8 }))
      .map(([base, steps]) => steps.reduce<Buffer>((bytes, step) => step(bytes, corpus), base));
    sources.push(mutated, mutated);
  }
  return fc.oneof(...sources);
}

/** Runs `target` on every corpus input once: a finding there is a regression. */
export async function replayCorpus(target: FuzzTarget, corpus: readonly Buffer[]): Promise<void> {
  for (const input of corpus) await target.fuzz(input);
}

/** Fuzzes `target` for `seconds`; a finding is shrunk and handed back, not thrown. */
export async function fuzzFor(target: FuzzTarget, corpus: readonly Buffer[], seconds: number, seed?: number): Promise<FuzzReport> {
  let runs = 0;
  const details = await fc.check(
    fc.asyncProperty(inputs(target, corpus), async (bytes) => {
      runs++;
      await target.fuzz(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }),
    { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, ...(seed !== undefined ? { seed } : {}) },
  );
  if (!details.failed || details.counterexample === null) return { target: target.name, runs };
  const [bytes] = details.counterexample;
  return {
    target: target.name, runs, finding: Buffer.from(bytes),
    error: details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance),
    replay: `seed ${details.seed}, path ${details.counterexamplePath ?? ''}`,
  };
}

export async function loadCorpus(dir: string): Promise<Buffer[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => !name.startsWith('.') && name !== 'README.md').sort();
  return Promise.all(names.map((name) => readFile(join(dir, name))));
}

/** Keeps a finding where a developer turns it into a regression input (see test/fuzz/README.md). */
export async function saveFinding(dir: string, report: FuzzReport): Promise<string | undefined> {
  if (report.finding === undefined) return undefined;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${report.target}-${createHash('sha1').update(report.finding).digest('hex').slice(0, 16)}`);
  await writeFile(path, report.finding);
  return path;
}
