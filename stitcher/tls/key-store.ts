/**
 * The TLS secrets known so far, indexed by ClientHello random, bounded in count
 * and age. Key objects may land before or after the traffic they unlock, so a
 * consumer can subscribe to hear when secrets for a client random arrive.
 */
import { KEY_LOG_LABELS, parseKeyLog, type KeyLogEntry, type KeyLogLabel, type KeyLogTally } from './keylog.js';

export interface KeyStoreOptions {
  /**
   * The most client randoms kept; the oldest are dropped first.
   * @default 200000
   */
  readonly maxSessions?: number;
  /**
   * The memory the sessions may take (their share of the stitcher's budget):
   * caps `maxSessions` at `maxBytes / KEY_SESSION_BYTES`.
   * @default no cap but maxSessions
   */
  readonly maxBytes?: number;
  /**
   * How long secrets are kept after they arrive, in milliseconds of the clock.
   * @default 3600000 (one hour)
   */
  readonly maxAgeMs?: number;
  /**
   * The clock, nanoseconds since the Unix epoch; the stitcher may pass the time of
   * the records it reads so that replays of old traffic behave like live ones.
   * @default wall clock
   */
  readonly nowNs?: () => bigint;
}

/** The secrets of one TLS session, by key log label. */
export type SessionSecrets = ReadonlyMap<KeyLogLabel, Buffer>;

/** Told the client random (64 lowercase hex characters) of secrets that just arrived. */
export type KeyListener = (clientRandom: string) => void;

/**
 * One session's secrets packed into a one-byte string: per secret, its label's
 * index, its length and its bytes (latin1). A Map of Buffers per session cost about
 * 1.2 KB for a TLS 1.3 session; this is about a quarter of it, and a key flood
 * fills the store to its bound.
 */
interface StoredSession {
  packed: string;
  addedNs: bigint;
}

const LABEL_INDEX = new Map<KeyLogLabel, number>(KEY_LOG_LABELS.map((label, i) => [label, i]));

function pack(packed: string, label: KeyLogLabel, secret: Buffer): string {
  const index = LABEL_INDEX.get(label) as number;
  const joined = removeSecret(packed, index) + String.fromCharCode(index, secret.length) + secret.toString('latin1');
  // A joined string may stay a tree of its pieces (a V8 cons string, about half as large again); one made from
  // bytes is flat, so what a session costs does not depend on how the JIT happened to treat the join.
  return Buffer.from(joined, 'latin1').toString('latin1');
}

function removeSecret(packed: string, index: number): string {
  for (let at = 0; at < packed.length; at += 2 + packed.charCodeAt(at + 1)) {
    if (packed.charCodeAt(at) === index) return packed.slice(0, at) + packed.slice(at + 2 + packed.charCodeAt(at + 1));
  }
  return packed;
}

function unpack(packed: string): Map<KeyLogLabel, Buffer> {
  const secrets = new Map<KeyLogLabel, Buffer>();
  for (let at = 0; at < packed.length; at += 2 + packed.charCodeAt(at + 1)) {
    const length = packed.charCodeAt(at + 1);
    secrets.set(KEY_LOG_LABELS[packed.charCodeAt(at)] as KeyLogLabel, Buffer.from(packed.slice(at + 2, at + 2 + length), 'latin1'));
  }
  return secrets;
}

/** Heap bytes one TLS 1.3 session's five 48-byte secrets cost here: measured on Node 20 and 24 (about 590), for budgets. */
export const KEY_SESSION_BYTES = 600;

export class KeyStore {
  /** Sessions dropped, oldest first, because the store was full (not because they expired). */
  sessionsDropped = 0;
  private readonly sessions = new Map<string, StoredSession>();
  private readonly listeners = new Set<KeyListener>();
  private readonly maxSessions: number;
  private readonly maxAgeNs: bigint;
  private readonly nowNs: () => bigint;

  constructor(options: KeyStoreOptions = {}) {
    const byBytes = options.maxBytes === undefined ? Infinity : Math.max(1, Math.floor(options.maxBytes / KEY_SESSION_BYTES));
    this.maxSessions = Math.min(options.maxSessions ?? 200_000, byBytes);
    this.maxAgeNs = BigInt(options.maxAgeMs ?? 3_600_000) * 1_000_000n;
    this.nowNs = options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Adds secrets (a later line for the same label replaces the earlier) and tells the listeners. */
  add(entries: Iterable<KeyLogEntry>): void {
    const now = this.nowNs();
    const touched = new Set<string>();
    for (const entry of entries) {
      let session = this.sessions.get(entry.clientRandom);
      if (session === undefined) {
        session = { packed: '', addedNs: now };
      } else {
        // Re-insert so that Map order stays oldest-first.
        this.sessions.delete(entry.clientRandom);
        session.addedNs = now;
      }
      session.packed = pack(session.packed, entry.label, entry.secret);
      this.sessions.set(entry.clientRandom, session);
      touched.add(entry.clientRandom);
    }
    this.evict(now);
    for (const random of touched) {
      if (!this.sessions.has(random)) continue;
      for (const listener of this.listeners) listener(random);
    }
  }

  /**
   * Parses key log text (a small key file, a test's lines) and adds what is valid.
   * Returns the tally of what was dropped (counts and the first line number only).
   */
  addKeyLog(text: string): KeyLogTally {
    const { entries, tally } = parseKeyLog(text);
    this.add(entries);
    return tally;
  }

  /** The secrets for a client random (any hex case), or undefined when none or expired. */
  get(clientRandom: string): SessionSecrets | undefined {
    const key = clientRandom.toLowerCase();
    const session = this.sessions.get(key);
    if (session === undefined) return undefined;
    if (this.nowNs() - session.addedNs > this.maxAgeNs) {
      this.sessions.delete(key);
      return undefined;
    }
    return unpack(session.packed);
  }

  /** Calls `listener` whenever secrets arrive; returns the unsubscribe function. */
  subscribe(listener: KeyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops what is too old or beyond the count bound (oldest first). */
  evict(now: bigint = this.nowNs()): void {
    for (const [random, session] of this.sessions) {
      const tooMany = this.sessions.size > this.maxSessions;
      const expired = now - session.addedNs > this.maxAgeNs;
      if (!tooMany && !expired) break;
      this.sessions.delete(random);
      if (!expired) this.sessionsDropped++;
    }
  }
}
