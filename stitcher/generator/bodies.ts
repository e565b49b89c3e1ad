/**
 * Deterministic pseudo-random HTTP bodies. The bytes come from an AES-CTR
 * key stream keyed by the object's path and the run's seed, so the server
 * never holds a whole body and a multi-megabyte object costs only native
 * work. Text bodies are the same key stream in base64 (printable, no
 * per-byte JavaScript).
 */
import { createCipheriv, createHash } from 'node:crypto';

const CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK_BYTES);

export type BodyKind = 'text' | 'binary';

export interface BodySpec {
  /** The request path; with the seed it decides every byte. */
  readonly path: string;
  readonly size: number;
  readonly kind: BodyKind;
}

export function contentTypeOf(kind: BodyKind): string {
  return kind === 'text' ? 'text/plain; charset=us-ascii' : 'application/octet-stream';
}

/** The body of `spec` in chunks of at most 64 KiB. */
export function* bodyChunks(seed: string, spec: BodySpec): Generator<Buffer> {
  const key = createHash('sha256').update(`${seed}\0${spec.path}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  let left = spec.size;
  while (left > 0) {
    if (spec.kind === 'binary') {
      const n = Math.min(left, CHUNK_BYTES);
      yield cipher.update(ZEROS.subarray(0, n));
      left -= n;
    } else {
      // 3 key-stream bytes become 4 base64 characters.
      const n = Math.min(left, CHUNK_BYTES);
      const raw = cipher.update(ZEROS.subarray(0, Math.ceil(n / 4) * 3));
      yield Buffer.from(raw.toString('base64').slice(0, n), 'latin1');
      left -= n;
    }
  }
}

/** The SHA-256 (hex) of the body of `spec`, computed the way the server sends it. */
export function bodySha256(seed: string, spec: BodySpec): string {
  const hash = createHash('sha256');
  for (const chunk of bodyChunks(seed, spec)) hash.update(chunk);
  return hash.digest('hex');
}
