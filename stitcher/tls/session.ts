/**
 * One TLS connection seen from the side: both directions' records in, the
 * application data of each direction out. Knows the handshake only as far as
 * decryption needs it (hellos, ChangeCipherSpec, Finished, EndOfEarlyData,
 * KeyUpdate); the secrets come from the key log, looked up by client random.
 *
 * A record that cannot be handled yet (its keys or the ServerHello are not
 * known) blocks its direction: it and what follows wait in a queue, copied,
 * until `pump()` is called again.
 */
import { Direction } from '../format/records.js';
import type { SessionSecrets } from './key-store.js';
import { HandshakeType } from './handshake.js';
import { copyRecord, directionName, DirectionState, itemTime, otherDirection, secretLabel } from './direction-state.js';
import type { Phase, QueueItem } from './direction-state.js';
import type { HandshakeMessage } from './handshake.js';
import { ExtensionType, parseClientHello, parseServerHello, TLS12, TLS13 } from './hello.js';
import type { ClientHello, ServerHello } from './hello.js';
import { ContentType } from './record-reader.js';
import type { TlsRecord } from './record-reader.js';
import { cipherSuite } from './suites.js';
import type { CipherSuite } from './suites.js';
import { RecordAuthError } from './record-cipher.js';
import type { DecryptedRecord, RecordDecrypter } from './record-cipher.js';
import { createDecrypters12, createDecrypter13, nextSecret13 } from './session-keys.js';
import { resumedClientHello, resumedServerHello, type DirectionSnapshot, type SessionSnapshot } from './session-snapshot.js';

export type UndecryptableReason =
  | 'no-keys'
  | 'unsupported'
  | 'auth-failure'
  | 'no-client-hello'
  | 'no-server-hello'
  | 'hole'
  | 'malformed';

/** Where a session's results go. */
export interface SessionOutput {
  /** Application data of one direction, in order. */
  plaintext(dir: Direction, content: Buffer, tsNs: bigint): void;
  /** The first application data decrypted: the session is real, its keys are right. */
  committed(): void;
  /** After commit, a direction is lost from here on (hole or failed record of `length` ciphertext bytes). */
  lost(dir: Direction, cause: 'gap' | 'missing' | 'auth-failure', length: bigint, tsNs: bigint): void;
  /** Before commit, the whole session cannot be decrypted; nothing more comes out. */
  failed(reason: UndecryptableReason, detail: string): void;
  /** A record decrypted (for statistics). */
  decrypted(bytes: number): void;
}

/** Records of a TLS 1.3 client that may be early data the server skipped, at most. */
const MAX_SKIPPED_EARLY_RECORDS = 256;

export class TlsSession {
  clientHello: ClientHello | undefined;
  serverHello: ServerHello | undefined;
  suite: CipherSuite | undefined;
  /** Set once `failed` was called: the session ignores everything after. */
  done = false;
  /** A record is waiting for secrets that are not in the key store yet. */
  waitingForKeys = false;
  private helloRetry = false;
  private earlyDataTaken = false;
  private isCommitted = false;
  /** Records that authenticated, in both directions. */
  recordsDecrypted = 0;
  private clientRandomHex = '';
  private readonly dirs = [new DirectionState(), new DirectionState()];

  constructor(
    private readonly lookupSecrets: (clientRandom: string) => SessionSecrets | undefined,
    private readonly out: SessionOutput,
  ) {}

  get clientRandom(): string {
    return this.clientRandomHex;
  }

  /**
   * The session as a checkpoint keeps it, when it stands where a resume can pick it
   * up: committed, nothing queued, no handshake message cut across records, no
   * direction in 0-RTT. Otherwise undefined.
   */
  snapshot(): SessionSnapshot | undefined {
    const { serverHello, suite, clientHello } = this;
    if (!this.isCommitted || this.done || this.hasQueued || serverHello === undefined || suite === undefined || clientHello === undefined) return undefined;
    if (this.dirs.some((state) => !state.lost && (state.phase === 'early' || state.handshake.midMessage))) return undefined;
    const direction = (state: DirectionState): DirectionSnapshot => {
      // Resumed and not used since: the keys still stand where the checkpoint left them.
      const sequence = state.decrypter?.sequence ?? state.resumed?.sequence;
      return { phase: state.phase, encrypted: state.encrypted, keyUpdates: state.keyUpdates, lost: state.lost, ...(sequence !== undefined ? { sequence: sequence.toString() } : {}) };
    };
    return {
      version: serverHello.version, suite: suite.id, clientRandom: this.clientRandomHex, serverRandom: serverHello.random.toString('hex'),
      encryptThenMac: serverHello.encryptThenMac, directions: [direction(this.dirs[0]), direction(this.dirs[1])],
    };
  }

  /**
   * A committed session going on from a snapshot; its keys are looked up again when
   * the first record comes. Undefined when this version does not know the suite.
   */
  static resume(
    snapshot: SessionSnapshot,
    lookupSecrets: (clientRandom: string) => SessionSecrets | undefined,
    out: SessionOutput,
  ): TlsSession | undefined {
    const suite = cipherSuite(snapshot.suite);
    if (suite === undefined || suite.version !== snapshot.version) return undefined;
    const session = new TlsSession(lookupSecrets, out);
    session.suite = suite;
    session.clientHello = resumedClientHello(Buffer.from(snapshot.clientRandom, 'hex'));
    session.serverHello = resumedServerHello(snapshot, Buffer.from(snapshot.serverRandom, 'hex'));
    session.clientRandomHex = snapshot.clientRandom;
    session.isCommitted = true;
    snapshot.directions.forEach((saved, dir) => {
      const state = session.dirs[dir]!;
      state.phase = saved.phase;
      state.encrypted = saved.encrypted;
      state.lost = saved.lost;
      state.keyUpdates = saved.keyUpdates;
      state.resumed = { keyUpdates: saved.keyUpdates, sequence: saved.sequence === undefined ? undefined : BigInt(saved.sequence) };
    });
    return session;
  }

  get queuedBytes(): number {
    return this.dirs[0].queuedBytes + this.dirs[1].queuedBytes;
  }

  get hasQueued(): boolean {
    return this.dirs[0].queue.length + this.dirs[1].queue.length > 0;
  }

  get committed(): boolean {
    return this.isCommitted;
  }

  /** Hands one record or hole of a direction to the session, which handles it now or queues a copy. */
  push(dir: Direction, item: QueueItem): void {
    const state = this.dirs[dir];
    if (state.queue.length === 0 && this.handle(dir, item)) {
      // What this record taught (a ServerHello) may release the other direction.
      if (this.dirs[otherDirection(dir)].queue.length > 0) this.pump();
      return;
    }
    state.queue.push(item.kind === 'record' ? { kind: 'record', record: copyRecord(item.record) } : item);
    state.queuedBytes += item.kind === 'record' ? item.record.body.length : 0;
  }

  /** Handles queued items as far as possible, earlier records first across directions. */
  pump(): void {
    this.waitingForKeys = false;
    for (;;) {
      const order = this.frontOrder();
      let progressed = false;
      for (const dir of order) {
        const state = this.dirs[dir];
        const item = state.queue[0];
        if (!this.handle(dir, item)) continue;
        state.queue.shift();
        if (item.kind === 'record') state.queuedBytes -= item.record.body.length;
        progressed = true;
        break;
      }
      if (!progressed) return;
    }
  }

  /** Drops every queued item (the flow gives up waiting). */
  clear(): void {
    for (const state of this.dirs) {
      state.queue.length = 0;
      state.queuedBytes = 0;
    }
  }

  /**
   * Stops waiting: before commit the whole session fails; after, each direction with
   * records still held is lost there (its hole as long as the ciphertext held).
   */
  giveUp(reason: UndecryptableReason, detail: string, tsNs: bigint): void {
    const held = this.dirs.map((state) => (state.queue.length > 0 ? BigInt(state.queuedBytes) : undefined));
    this.clear();
    if (!this.isCommitted) {
      this.fail(Direction.ClientToServer, reason, detail, 0n, tsNs);
      return;
    }
    held.forEach((bytes, dir) => {
      if (bytes !== undefined) this.fail(dir as Direction, reason, detail, bytes, tsNs);
    });
  }

  /**
   * From the first plaintext on, the session is committed: a later failure loses one
   * direction, not the session. Also called at the end of a session that decrypted
   * without carrying any application data.
   */
  commit(): void {
    if (this.isCommitted || this.done) return;
    this.isCommitted = true;
    this.out.committed();
  }

  /** Gives up the whole session (before commit) or a direction (after); `holeCause` for reason 'hole'. */
  fail(dir: Direction, reason: UndecryptableReason, detail: string, length: bigint, tsNs: bigint, holeCause: 'gap' | 'missing' = 'gap'): void {
    if (this.done) return;
    if (!this.isCommitted) {
      this.done = true;
      this.clear();
      this.out.failed(reason, detail);
      return;
    }
    const state = this.dirs[dir];
    if (state.lost) return;
    state.lost = true;
    this.out.lost(dir, reason === 'auth-failure' ? 'auth-failure' : reason === 'hole' ? holeCause : 'missing', length, tsNs);
  }

  /** Directions with a queued item, the one whose item is older first. */
  private frontOrder(): Direction[] {
    const c = this.dirs[0].queue[0];
    const s = this.dirs[1].queue[0];
    if (c === undefined) return s === undefined ? [] : [Direction.ServerToClient];
    if (s === undefined) return [Direction.ClientToServer];
    return itemTime(s) < itemTime(c)
      ? [Direction.ServerToClient, Direction.ClientToServer]
      : [Direction.ClientToServer, Direction.ServerToClient];
  }

  /** True when the item is dealt with, false when it must wait. */
  private handle(dir: Direction, item: QueueItem): boolean {
    if (this.done || this.dirs[dir].lost) return true;
    if (item.kind === 'hole') {
      const detail = `${item.length} ${item.cause} bytes in ${directionName(dir)} before any plaintext`;
      this.fail(dir, 'hole', detail, item.length, item.tsNs, item.cause);
      return true;
    }
    try {
      return this.handleRecord(dir, item.record);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.fail(dir, 'malformed', `${directionName(dir)}: ${message}`, BigInt(item.record.body.length), item.record.tsNs);
      return true;
    }
  }

  private handleRecord(dir: Direction, record: TlsRecord): boolean {
    const version = this.serverHello?.version;
    if (version === undefined) {
      if (record.type === ContentType.Handshake) return this.plainHandshake(dir, record), true;
      if (dir === Direction.ClientToServer) return false; // early data, or CCS: wait for the ServerHello
      if (record.type === ContentType.ApplicationData) throw new Error('application data before the ServerHello');
      return true; // a plaintext alert, or the CCS after a HelloRetryRequest
    }
    const state = this.dirs[dir];
    if (version === TLS13) {
      if (record.type === ContentType.ApplicationData) return this.decryptRecord(dir, record);
      if (record.type === ContentType.Handshake) this.plainHandshake(dir, record);
      return true; // compatibility CCS, plaintext alert
    }
    if (state.encrypted) return this.decryptRecord(dir, record);
    if (record.type === ContentType.ChangeCipherSpec) state.encrypted = true;
    else if (record.type === ContentType.Handshake) this.plainHandshake(dir, record);
    else if (record.type === ContentType.ApplicationData) throw new Error('application data before ChangeCipherSpec');
    return true;
  }

  private plainHandshake(dir: Direction, record: TlsRecord): void {
    for (const message of this.dirs[dir].handshake.push(record.body)) {
      if (dir === Direction.ClientToServer) this.clientMessage(message);
      else this.serverMessage(message);
      if (this.done) return;
    }
  }

  private clientMessage(message: HandshakeMessage): void {
    if (message.type !== HandshakeType.ClientHello) {
      if (this.clientHello === undefined) this.fail(Direction.ClientToServer, 'no-client-hello', `first client handshake message is of type ${message.type}`, 0n, 0n);
      return;
    }
    const hello = parseClientHello(message.body);
    if (this.clientHello === undefined) {
      this.clientHello = hello;
      this.clientRandomHex = hello.random.toString('hex');
    }
  }

  private serverMessage(message: HandshakeMessage): void {
    if (message.type !== HandshakeType.ServerHello || this.serverHello !== undefined) return;
    const hello = parseServerHello(message.body);
    if (this.clientHello === undefined) {
      this.fail(Direction.ServerToClient, 'no-client-hello', 'ServerHello without a ClientHello', 0n, 0n);
      return;
    }
    if (hello.isHelloRetryRequest) {
      this.helloRetry = true;
      return;
    }
    const suite = cipherSuite(hello.cipherSuite);
    if ((hello.version !== TLS12 && hello.version !== TLS13) || suite === undefined || suite.version !== hello.version) {
      this.fail(Direction.ServerToClient, 'unsupported', `version 0x${hello.version.toString(16)} with suite 0x${hello.cipherSuite.toString(16)}`, 0n, 0n);
      return;
    }
    this.serverHello = hello;
    this.suite = suite;
    // Early data may follow the first ClientHello; the server can only have read it when it
    // took the PSK without a retry (whether it really did is in EncryptedExtensions, not read).
    this.earlyDataTaken = !this.helloRetry && hello.extensions.has(ExtensionType.PreSharedKey);
    this.dirs[Direction.ClientToServer].phase = hello.version === TLS13 && this.clientHello.offersEarlyData ? 'early' : 'handshake';
  }

  private secrets(): SessionSecrets | undefined {
    return this.lookupSecrets(this.clientRandomHex);
  }

  /** The decrypter for the direction's current keys, or undefined while its secret is unknown. */
  private decrypterFor(dir: Direction): RecordDecrypter | undefined {
    const state = this.dirs[dir];
    if (state.decrypter !== undefined) return state.decrypter;
    const suite = this.suite as CipherSuite;
    const serverHello = this.serverHello as ServerHello;
    const secrets = this.secrets();
    if (serverHello.version === TLS12) {
      const master = secrets?.get('CLIENT_RANDOM');
      if (master === undefined) return undefined;
      const [client, server] = createDecrypters12(suite, master, this.clientHello as ClientHello, serverHello);
      this.dirs[Direction.ClientToServer].decrypter = client;
      this.dirs[Direction.ServerToClient].decrypter = server;
      for (const direction of this.dirs) goOnFromCheckpoint(direction);
      return state.decrypter;
    }
    if (state.secret === undefined) {
      const logged = secrets?.get(secretLabel(dir, state.phase));
      if (logged === undefined) return undefined;
      state.secret = logged;
      // A resumed direction's current secret is the logged one after its KeyUpdates.
      for (let i = 0; i < (state.resumed?.keyUpdates ?? 0); i++) state.secret = nextSecret13(suite, state.secret);
    }
    state.decrypter = createDecrypter13(suite, state.secret);
    goOnFromCheckpoint(state);
    return state.decrypter;
  }

  private decryptRecord(dir: Direction, record: TlsRecord): boolean {
    const state = this.dirs[dir];
    if (state.phase === 'early') return this.decryptEarly(dir, record);
    const decrypter = this.decrypterFor(dir);
    if (decrypter === undefined) {
      this.waitingForKeys = true;
      return false;
    }
    let decrypted: DecryptedRecord;
    try {
      decrypted = decrypter.decrypt(record);
    } catch (error) {
      if (!(error instanceof RecordAuthError)) throw error;
      this.fail(dir, 'auth-failure', `${directionName(dir)}: ${error.message}`, BigInt(record.body.length), record.tsNs);
      return true;
    }
    this.content(dir, decrypted, record);
    return true;
  }

  /**
   * A TLS 1.3 client record after a ClientHello that offered early data: early data
   * (early secret), or the first handshake record (the server took no early data,
   * or no early secret was logged), or early data the server skipped (and so do we).
   */
  private decryptEarly(dir: Direction, record: TlsRecord): boolean {
    const state = this.dirs[dir];
    const secrets = this.secrets();
    const earlySecret = this.earlyDataTaken ? secrets?.get('CLIENT_EARLY_TRAFFIC_SECRET') : undefined;
    if (earlySecret !== undefined) {
      state.decrypter ??= createDecrypter13(this.suite as CipherSuite, earlySecret);
      const early = tryDecrypt(state.decrypter, record);
      if (early !== undefined) return this.content(dir, early, record), true;
    }
    const handshakeSecret = secrets?.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    if (handshakeSecret === undefined) {
      this.waitingForKeys = true;
      return false;
    }
    const handshake = createDecrypter13(this.suite as CipherSuite, handshakeSecret);
    const decrypted = tryDecrypt(handshake, record);
    if (decrypted === undefined) {
      if (++state.skippedEarly > MAX_SKIPPED_EARLY_RECORDS) {
        this.fail(dir, 'auth-failure', `${directionName(dir)}: record at stream offset ${record.offset} fails under the early and the handshake keys`, BigInt(record.body.length), record.tsNs);
      }
      return true;
    }
    state.phase = 'handshake';
    state.secret = handshakeSecret;
    state.decrypter = handshake;
    this.content(dir, decrypted, record);
    return true;
  }

  private content(dir: Direction, decrypted: DecryptedRecord, record: TlsRecord): void {
    this.recordsDecrypted++;
    this.out.decrypted(record.body.length);
    const state = this.dirs[dir];
    if (decrypted.type === ContentType.ApplicationData) {
      if (decrypted.content.length > 0 && (state.phase !== 'handshake' || this.serverHello?.version === TLS12)) {
        this.commit();
        this.out.plaintext(dir, decrypted.content, record.tsNs);
      }
    } else if (decrypted.type === ContentType.Handshake && this.serverHello?.version === TLS13) {
      for (const message of state.handshake.push(decrypted.content)) this.protectedMessage(dir, message);
    }
  }

  /** TLS 1.3 handshake messages under protection that change the keys. */
  private protectedMessage(dir: Direction, message: HandshakeMessage): void {
    const state = this.dirs[dir];
    const rekey = (phase: Phase, secret: Buffer | undefined): void => {
      state.phase = phase;
      state.secret = secret;
      state.decrypter = undefined;
    };
    if (message.type === HandshakeType.Finished && state.phase === 'handshake') rekey('application', undefined);
    else if (message.type === HandshakeType.EndOfEarlyData && state.phase === 'early') rekey('handshake', undefined);
    else if (message.type === HandshakeType.KeyUpdate && state.phase === 'application' && state.secret !== undefined) {
      rekey('application', nextSecret13(this.suite as CipherSuite, state.secret));
      state.keyUpdates++;
    }
  }
}

/** A resumed direction's first decrypter goes on at the checkpoint's sequence number. */
function goOnFromCheckpoint(state: DirectionState): void {
  const resumed = state.resumed;
  if (resumed === undefined || state.decrypter === undefined) return;
  if (resumed.sequence !== undefined) state.decrypter.sequence = resumed.sequence;
  state.resumed = undefined;
}

function tryDecrypt(decrypter: RecordDecrypter, record: TlsRecord): DecryptedRecord | undefined {
  try {
    return decrypter.decrypt(record);
  } catch (error) {
    if (error instanceof RecordAuthError) return undefined;
    throw error;
  }
}
