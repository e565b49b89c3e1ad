/** What became of a TLS flow, for the caller's log and counters. */
import type { TlsSession, UndecryptableReason } from './session.js';
import { suiteName, versionName } from './suites.js';

export interface TlsFlowOutcome {
  readonly decrypted: boolean;
  readonly reason?: UndecryptableReason;
  /** Why, for a log line; never holds key material. */
  readonly detail?: string;
  readonly version?: string;
  readonly suite?: string;
  readonly serverName?: string;
  /** 64 hex characters, when a ClientHello was seen: the key log lines of this flow are the ones with it. */
  readonly clientRandom?: string;
  /** The ALPN protocols the ClientHello offered (e.g. ["h2", "http/1.1"]). */
  readonly offeredAlpn?: readonly string[];
  /** A decrypted flow lost a direction part way. */
  readonly damaged?: 'gap' | 'missing' | 'auth-failure';
}


/** The outcome of a flow, with what its hellos said. */
export function flowOutcome(
  session: TlsSession | undefined,
  result: Pick<TlsFlowOutcome, 'decrypted' | 'reason' | 'detail' | 'damaged'>,
): TlsFlowOutcome {
  const serverHello = session?.serverHello;
  return {
    ...result,
    version: serverHello ? versionName(serverHello.version) : undefined,
    suite: serverHello ? suiteName(serverHello.cipherSuite) : undefined,
    serverName: session?.clientHello?.serverName,
    offeredAlpn: session?.clientHello?.alpn,
    clientRandom: session?.clientRandom || undefined,
  };
}
