/**
 * Fuzz target: the key log parser over arbitrary text. It never throws; every
 * line is either passed on or tallied (valid + invalid never exceeds the lines);
 * what is passed on is a valid line that reads back as the same entry; a tally
 * holds no text of the input.
 */
import fc from 'fast-check';
import {
  formatKeyLogLine, isSessionEntry, KEY_LINE_PROBLEMS, KEY_LOG_LABELS, KeyLogTally, parseKeyLogLine, scanKeyLog, type AnyKeyLogEntry,
} from '../../../stitcher/tls/keylog.js';
import type { FuzzTarget } from '../harness.js';

export function fuzz(data: Buffer): void {
  // Both readings of the bytes: UTF-8 as the record decoder does, and one char per byte.
  check(data.toString('utf8'));
  check(data.toString('latin1'));
}

function check(text: string): void {
  const tally = new KeyLogTally();
  const entries: AnyKeyLogEntry[] = [];
  const lines = scanKeyLog(text, tally, (entry) => entries.push(entry));
  if (tally.valid !== entries.length) throw new Error(`tally says ${tally.valid} valid, ${entries.length} visited`);
  if (tally.valid + tally.invalid > lines) throw new Error(`${tally.valid} + ${tally.invalid} lines tallied of ${lines}`);
  const byProblem = KEY_LINE_PROBLEMS.reduce((n, problem) => n + tally.byProblem[problem], 0);
  if (byProblem !== tally.invalid) throw new Error(`problems add up to ${byProblem}, invalid is ${tally.invalid}`);
  if (tally.invalid > 0 && (tally.firstInvalidLine === undefined || tally.firstInvalidLine < 1 || tally.firstInvalidLine > lines)) {
    throw new Error(`first invalid line ${tally.firstInvalidLine} outside 1..${lines}`);
  }
  for (const entry of entries) {
    const line = formatKeyLogLine(entry);
    const again = parseKeyLogLine(line);
    if (typeof again === 'string') throw new Error(`an exported line does not read back: ${again}`);
    if (formatKeyLogLine(again) !== line) throw new Error('an exported line reads back as another');
    if (!/^[A-Z_0-9]+ [0-9a-f]+ [0-9a-f]+$/.test(line)) throw new Error('an exported line is not in canonical form');
    if (isSessionEntry(entry) && entry.clientRandom.length !== 64) throw new Error('a client random that is not 64 hex characters');
  }
}

const hex = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

/** Lines near the grammar: known and unknown labels, right and wrong lengths, odd blanks and line ends. */
export const structured: fc.Arbitrary<Uint8Array> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...KEY_LOG_LABELS, 'RSA', 'ECH_SECRET', '#', ''), fc.string({ maxLength: 12 })),
    fc.oneof(hex(32), hex(8), hex(31), fc.string({ maxLength: 70 })),
    fc.oneof(hex(48), hex(32), hex(64), hex(16), fc.string({ maxLength: 100 })),
    fc.constantFrom(' ', '\t', '  ', ' \t '),
    fc.constantFrom('\n', '\r\n', '\r', '\n\n', ''),
  ).map(([label, random, secret, blank, end]) => `${label}${blank}${random}${blank}${secret}${end}`),
  { maxLength: 20 },
).map((lines) => Buffer.from(lines.join(''), 'utf8'));

export const target: FuzzTarget = { name: 'keylog', fuzz, structured, maxLength: 2048 };
