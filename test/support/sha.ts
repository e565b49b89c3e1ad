/** Content hashes the tests compare bodies and objects by. */
import { createHash } from 'node:crypto';

/** sha256 of `bytes`, as lowercase hex. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
