/**
 * Runs a command and measures it from outside the process: peak RSS as the kernel
 * accounts it (GNU time's %M, the child's maximum resident set), wall time, and the
 * bytes it wrote to stderr (the stitcher's logs), which go to a file rather than
 * into this process, so that a run that floods its logs cannot take the test down.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export interface MeasuredRun {
  readonly code: number | null;
  /** Set when the run was killed for taking longer than `timeoutMs`. */
  readonly timedOut: boolean;
  readonly stdout: string;
  /** Peak resident set of the command, bytes. */
  readonly peakRssBytes: number;
  readonly seconds: number;
  /** Bytes written to stderr. */
  readonly logBytes: number;
  /** The first `keepLogBytes` of stderr. */
  readonly logHead: string;
}

export interface MeasureOptions {
  /** Killed (SIGKILL) past this. @default 120000 */
  readonly timeoutMs?: number;
  /** How much of stderr to hand back. @default 1 MiB */
  readonly keepLogBytes?: number;
}

export async function measuredRun(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<MeasuredRun> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-measure-'));
  const rssFile = join(dir, 'rss');
  const logFile = join(dir, 'stderr');
  try {
    const log = createWriteStream(logFile);
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.pipe(log);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await new Promise<void>((resolve) => log.end(resolve));
    // GNU time writes "Command exited with non-zero status N" before the number when the command failed.
    const rssKb = Number((await readFile(rssFile, 'utf8').catch(() => '0')).trim().split('\n').at(-1));
    const { logBytes, head } = await readHead(logFile, options.keepLogBytes ?? 1024 * 1024);
    return {
      code, timedOut, stdout: Buffer.concat(stdout).toString('utf8'),
      peakRssBytes: Number.isFinite(rssKb) ? rssKb * 1024 : 0, seconds, logBytes, logHead: head,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The size of a file and its first `keep` bytes, without reading the rest (a flooded log may be huge). */
async function readHead(file: string, keep: number): Promise<{ logBytes: number; head: string }> {
  const handle = await open(file, 'r');
  try {
    const logBytes = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.min(keep, logBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { logBytes, head: buffer.subarray(0, bytesRead).toString('utf8') };
  } finally {
    await handle.close();
  }
}
