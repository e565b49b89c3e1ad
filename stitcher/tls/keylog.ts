/**
 * NSS key log lines (RFC 9850): `LABEL <client_random hex> <secret hex>`.
 * Lines end in CRLF, CR or LF; hex is either case; `#` starts a comment line;
 * blank lines are skipped.
 *
 * Key objects come from someone else's gateway, so a line is taken only when it
 * is one this reader can use: a label of the known set, a 32-byte client random,
 * and a secret of a length the label allows (the TLS 1.2 master secret is 48
 * bytes; a TLS 1.3 secret is the size of the suite's hash, SHA-256 or SHA-384),
 * as Wireshark's key log reader takes them; and RSA lines of their own shape.
 * Anything else is tallied by problem and dropped. A tally holds counts and the
 * first offending line number only: the text of a line may be a secret.
 */

/** Every label of RFC 9850 that names a TLS 1.2 or TLS 1.3 secret. */
export const KEY_LOG_LABELS = [
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EARLY_EXPORTER_SECRET',
  'EXPORTER_SECRET',
] as const;

export type KeyLogLabel = (typeof KEY_LOG_LABELS)[number];

export interface KeyLogEntry {
  readonly label: KeyLogLabel;
  /** 64 lowercase hex characters: the ClientHello random this secret belongs to. */
  readonly clientRandom: string;
  readonly secret: Buffer;
}

/**
 * `RSA <first 8 bytes of the encrypted pre-master secret> <48-byte pre-master secret>`:
 * what OpenSSL and NSS write beside CLIENT_RANDOM for an RSA key exchange. Wireshark
 * matches it by the encrypted pre-master secret; the decryptor here has no use for it
 * (the CLIENT_RANDOM line of the same session carries the master secret), so it is
 * validated and passed on to key log outputs only.
 */
export interface RsaKeyLogEntry {
  readonly label: 'RSA';
  /** 16 lowercase hex characters. */
  readonly encryptedPreMasterPrefix: string;
  readonly secret: Buffer;
}

export type AnyKeyLogEntry = KeyLogEntry | RsaKeyLogEntry;

/**
 * The longest line that can be valid, with room for stray blanks: the longest
 * label (31) + 64 + 96 hex + separators is under 200. A longer line is dropped
 * without being split or copied, whatever its size.
 */
export const MAX_KEY_LINE_CHARS = 512;

/** Why a line was dropped. */
export const KEY_LINE_PROBLEMS = ['fields', 'unknown-label', 'client-random', 'secret-hex', 'secret-length', 'too-long'] as const;
export type KeyLineProblem = (typeof KEY_LINE_PROBLEMS)[number];

const PROBLEM_TEXT: Record<KeyLineProblem, string> = {
  'fields': 'not three fields (label, client random, secret)',
  'unknown-label': 'a label that is not one of the TLS 1.2 and 1.3 key log labels',
  'client-random': 'a client random that is not 32 bytes of hex (8 bytes of encrypted pre-master secret for RSA)',
  'secret-hex': 'a secret that is not hex',
  'secret-length': 'a secret of a length its label does not allow',
  'too-long': `longer than any key log line (${MAX_KEY_LINE_CHARS} characters)`,
};

/** Secret bytes each label allows: the TLS 1.2 master secret, or a TLS 1.3 hash (SHA-256, SHA-384). */
const TLS13_SECRET_BYTES: readonly number[] = [32, 48];
const SECRET_BYTES: Readonly<Record<KeyLogLabel, readonly number[]>> = {
  CLIENT_RANDOM: [48],
  CLIENT_EARLY_TRAFFIC_SECRET: TLS13_SECRET_BYTES,
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: TLS13_SECRET_BYTES,
  SERVER_HANDSHAKE_TRAFFIC_SECRET: TLS13_SECRET_BYTES,
  CLIENT_TRAFFIC_SECRET_0: TLS13_SECRET_BYTES,
  SERVER_TRAFFIC_SECRET_0: TLS13_SECRET_BYTES,
  EARLY_EXPORTER_SECRET: TLS13_SECRET_BYTES,
  EXPORTER_SECRET: TLS13_SECRET_BYTES,
};

const HEX = /^[0-9a-fA-F]+$/;
const FIELD_SEPARATOR = /[ \t]+/;

/** What is wrong with a line, said without its content. */
export function describeKeyLineProblem(problem: KeyLineProblem): string {
  return PROBLEM_TEXT[problem];
}

/** A line (already trimmed, not blank, not a comment): its entry, or why it is dropped. */
export function parseKeyLogLine(line: string): AnyKeyLogEntry | KeyLineProblem {
  if (line.length > MAX_KEY_LINE_CHARS) return 'too-long';
  const fields = line.split(FIELD_SEPARATOR);
  if (fields.length !== 3) return 'fields';
  const [label, random, secret] = fields as [string, string, string];
  if (label === 'RSA') return parseRsaLine(random, secret);
  const allowed = Object.hasOwn(SECRET_BYTES, label) ? SECRET_BYTES[label as KeyLogLabel] : undefined;
  if (allowed === undefined) return 'unknown-label';
  if (random.length !== 64 || !HEX.test(random)) return 'client-random';
  if (secret.length % 2 !== 0 || !HEX.test(secret)) return 'secret-hex';
  if (!allowed.includes(secret.length / 2)) return 'secret-length';
  return { label: label as KeyLogLabel, clientRandom: ownCopyOfHex(random), secret: Buffer.from(secret, 'hex') };
}

function parseRsaLine(prefix: string, secret: string): RsaKeyLogEntry | KeyLineProblem {
  if (prefix.length !== 16 || !HEX.test(prefix)) return 'client-random';
  if (secret.length % 2 !== 0 || !HEX.test(secret)) return 'secret-hex';
  if (secret.length !== 96) return 'secret-length';
  return { label: 'RSA', encryptedPreMasterPrefix: ownCopyOfHex(prefix), secret: Buffer.from(secret, 'hex') };
}

/**
 * Lowercase hex in a string of its own. A field split from a line is a slice of the
 * whole record's text (up to 8 MiB), and V8 keeps that text alive for as long as
 * any slice of it lives: a client random kept in the key store would pin every
 * record it came from.
 */
function ownCopyOfHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('hex');
}

/** Whether an entry names a session by its client random (what the key store keeps). */
export function isSessionEntry(entry: AnyKeyLogEntry): entry is KeyLogEntry {
  return entry.label !== 'RSA';
}

/**
 * The line as it is passed on (key log files, pcapng Decryption Secrets Blocks):
 * rebuilt from the parsed entry, lowercase, single spaces, no line end. Only what
 * was validated can be exported, whatever else the original line held.
 */
export function formatKeyLogLine(entry: AnyKeyLogEntry): string {
  const id = isSessionEntry(entry) ? entry.clientRandom : entry.encryptedPreMasterPrefix;
  return `${entry.label} ${id} ${entry.secret.toString('hex')}`;
}

/** Counts of the lines of one key log (a record, an object): valid, and dropped by problem. */
export class KeyLogTally {
  valid = 0;
  invalid = 0;
  readonly byProblem: Record<KeyLineProblem, number> = {
    'fields': 0, 'unknown-label': 0, 'client-random': 0, 'secret-hex': 0, 'secret-length': 0, 'too-long': 0,
  };
  /** 1-based number of the first dropped line, counted across everything this tally saw. */
  firstInvalidLine: number | undefined;

  drop(problem: KeyLineProblem, line: number): void {
    this.invalid++;
    this.byProblem[problem]++;
    this.firstInvalidLine ??= line;
  }

  /** The problems that occurred, with their counts (for a log line or a summary). */
  problems(): Partial<Record<KeyLineProblem, number>> {
    const seen: Partial<Record<KeyLineProblem, number>> = {};
    for (const problem of KEY_LINE_PROBLEMS) if (this.byProblem[problem] > 0) seen[problem] = this.byProblem[problem];
    return seen;
  }
}

/**
 * Calls `visit` with every valid entry of `text`, in order, and tallies the rest,
 * line by line without splitting the text into an array: a record may hold
 * millions of lines. `firstLine` numbers the first line of `text` (for a text
 * that continues an earlier one, e.g. the next record of an object).
 * @returns the number of lines the text had (blank and comment lines included)
 */
export function scanKeyLog(text: string, tally: KeyLogTally, visit: (entry: AnyKeyLogEntry) => void, firstLine = 1): number {
  const length = text.length;
  let start = 0;
  let number = firstLine - 1;
  while (start < length) {
    let end = start;
    let code = 0;
    while (end < length) {
      code = text.charCodeAt(end);
      if (code === 10 || code === 13) break;
      end++;
    }
    number++;
    visitLine(text, start, end, number, tally, visit);
    // CRLF is one line end; a lone CR or LF is one too.
    start = end + (code === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
  }
  return number - (firstLine - 1);
}

function visitLine(text: string, start: number, end: number, number: number, tally: KeyLogTally, visit: (entry: AnyKeyLogEntry) => void): void {
  if (end - start > MAX_KEY_LINE_CHARS) {
    // Only a line of blanks could be this long and still be harmless; the rest is too long.
    if (text.slice(start, end).trim() !== '') tally.drop('too-long', number);
    return;
  }
  const line = text.slice(start, end).trim();
  if (line === '' || line.startsWith('#')) return;
  const parsed = parseKeyLogLine(line);
  if (typeof parsed === 'string') {
    tally.drop(parsed, number);
    return;
  }
  tally.valid++;
  visit(parsed);
}

/** Every valid session entry of a (small) key log, and the tally of what was dropped. */
export function parseKeyLog(text: string): { readonly entries: KeyLogEntry[]; readonly tally: KeyLogTally } {
  const entries: KeyLogEntry[] = [];
  const tally = new KeyLogTally();
  scanKeyLog(text, tally, (entry) => {
    if (isSessionEntry(entry)) entries.push(entry);
  });
  return { entries, tally };
}
