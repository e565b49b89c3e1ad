/** What the TLS decryptor counts, for metrics and the `--once` summary. */
import type { UndecryptableReason } from './session.js';

export interface TlsStats {
  /** Flows that were not TLS and went on unchanged. */
  plainFlows: number;
  /** TLS flows whose first record decrypted (their plaintext went downstream). */
  decryptedFlows: number;
  /** Decrypted flows that lost a direction later (hole or failed record). */
  damagedFlows: number;
  /** TLS flows of which nothing could be decrypted, by reason. */
  undecryptable: Record<UndecryptableReason, number>;
  /** Decrypted flows by version name ("TLS 1.3"). */
  byVersion: Record<string, number>;
  /** Decrypted flows by IANA suite name. */
  bySuite: Record<string, number>;
  /** Records decrypted. */
  records: number;
  /** Plaintext application bytes handed downstream. */
  plaintextBytes: number;
  /** Records that failed authentication (whole flow or one direction). */
  authFailures: number;
}

export function emptyTlsStats(): TlsStats {
  return {
    plainFlows: 0,
    decryptedFlows: 0,
    damagedFlows: 0,
    undecryptable: {
      'no-keys': 0,
      unsupported: 0,
      'auth-failure': 0,
      'no-client-hello': 0,
      'no-server-hello': 0,
      hole: 0,
      malformed: 0,
    },
    byVersion: {},
    bySuite: {},
    records: 0,
    plaintextBytes: 0,
    authFailures: 0,
  };
}
