/**
 * A TLS session as a checkpoint keeps it, and the stand-ins for the hellos a
 * resumed session is rebuilt with (TlsSession.snapshot() and TlsSession.resume()).
 */
import type { Phase } from './direction-state.js';
import type { ClientHello, ServerHello } from './hello.js';

/**
 * What a checkpoint keeps of a session to go on from a record boundary: what the
 * hellos said and where each direction's keys stand. No secret: a resumed
 * session finds them again in the key log by the client random.
 */
export interface SessionSnapshot {
  readonly version: number;
  readonly suite: number;
  /** Hex. */
  readonly clientRandom: string;
  /** Hex (TLS 1.2 derives its keys from both randoms). */
  readonly serverRandom: string;
  readonly encryptThenMac: boolean;
  readonly directions: readonly [DirectionSnapshot, DirectionSnapshot];
}

export interface DirectionSnapshot {
  readonly phase: Phase;
  /** TLS 1.2: after ChangeCipherSpec. */
  readonly encrypted: boolean;
  readonly keyUpdates: number;
  /** The next record's sequence number (decimal); absent while the current keys have not been used. */
  readonly sequence?: string;
  readonly lost: boolean;
}

/** What a resumed session keeps of the ClientHello: its random. */
export function resumedClientHello(random: Buffer): ClientHello {
  return { random, sessionId: Buffer.alloc(0), cipherSuites: [], versions: [], alpn: [], offersEarlyData: false, extensions: new Set() };
}

/** What a resumed session keeps of the ServerHello: what key derivation and record protection need. */
export function resumedServerHello(snapshot: SessionSnapshot, random: Buffer): ServerHello {
  return {
    random, sessionId: Buffer.alloc(0), version: snapshot.version, cipherSuite: snapshot.suite, isHelloRetryRequest: false,
    encryptThenMac: snapshot.encryptThenMac, extendedMasterSecret: false, extensions: new Set(),
  };
}
