/**
 * NSS key log lines (RFC 9850): `LABEL <client_random hex> <secret hex>`.
 * Lines end in CRLF, CR or LF; hex is either case; `#` starts a comment line;
 * blank lines are skipped. Secrets never appear in an error message.
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

export interface KeyLogError {
  /** 1-based line number in the object. */
  readonly line: number;
  /** Says what is wrong, naming the object; never contains the secret. */
  readonly message: string;
}

export interface ParsedKeyLog {
  readonly entries: KeyLogEntry[];
  readonly errors: KeyLogError[];
}

const LABELS: ReadonlySet<string> = new Set(KEY_LOG_LABELS);
const HEX = /^[0-9a-fA-F]+$/;
/** Secrets are hash-sized: 32 (SHA-256) or 48 (SHA-384) bytes; CLIENT_RANDOM's master secret is 48. */
const SECRET_LENGTHS: ReadonlySet<number> = new Set([32, 48, 64]);

/**
 * Parses the text of a key log. Unknown labels are skipped silently (future labels);
 * malformed lines are returned as errors naming `objectName` and the line number.
 */
export function parseKeyLog(text: string, objectName: string): ParsedKeyLog {
  const entries: KeyLogEntry[] = [];
  const errors: KeyLogError[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const result = parseLine(line);
    if (typeof result === 'string') {
      errors.push({ line: i + 1, message: `key log ${objectName} line ${i + 1}: ${result}` });
    } else if (result !== undefined) {
      entries.push(result);
    }
  }
  return { entries, errors };
}

/** An entry, undefined for an unknown label, or what is wrong (without the secret). */
function parseLine(line: string): KeyLogEntry | string | undefined {
  const fields = line.split(/[ \t]+/);
  if (fields.length !== 3) return `expected 3 fields (label, client random, secret), found ${fields.length}`;
  const [label, random, secret] = fields;
  if (!LABELS.has(label)) {
    return /^[A-Z0-9_]+$/.test(label) ? undefined : 'the label is not an NSS key log label';
  }
  if (random.length !== 64 || !HEX.test(random)) return `${label}: the client random is not 32 bytes of hex`;
  if (secret.length % 2 !== 0 || !HEX.test(secret)) return `${label}: the secret is not hex`;
  if (!SECRET_LENGTHS.has(secret.length / 2)) return `${label}: the secret has an unexpected length of ${secret.length / 2} bytes`;
  return { label: label as KeyLogLabel, clientRandom: random.toLowerCase(), secret: Buffer.from(secret, 'hex') };
}
