/**
 * The TLS decryptor: a FlowConsumer between flow reassembly and a second packet
 * synthesiser that builds the clear-text variant.
 *
 * - Non-TLS flows go downstream unchanged (the same events, once classified).
 * - A TLS flow (ClientHello at client-to-server offset 0) goes downstream as its
 *   application data: `openFlow` when its first application data decrypts (or at
 *   close, for a session without any), then `data` per
 *   direction with offsets counted in the plaintext stream and the time of the
 *   record that carried it, then `close`.
 * - While its secrets are not in the KeyStore, a flow's ciphertext is held (copied),
 *   up to `keyWaitBytes` and `keyWaitMs` of event time; keys that arrive in time
 *   release it. Past that the flow is undecryptable ('no-keys').
 * - An undecryptable flow (no keys, unsupported suite, auth failure, no ClientHello,
 *   a hole before any plaintext, bytes that are not TLS) is reported through
 *   `onOutcome` and `stats`, and the downstream gets nothing of it: the caller
 *   exports such flows encrypted only.
 * - After plaintext went downstream, a hole in a direction (or a record that fails
 *   authentication) ends that direction: the downstream gets one `hole` at the
 *   current plaintext offset, its length the ciphertext bytes lost there (the
 *   plaintext length is unknowable), and nothing more of that direction; the
 *   other direction goes on. The flow counts as decrypted and damaged.
 * - For checkpoints, a decrypting flow stands at the start of the record each
 *   direction is in; a resume goes on from there with the session's snapshot
 *   (the keys are looked up again) and drops the bytes before it. A flow not
 *   decrypting yet, or not at a point a snapshot can take, is held from its
 *   start (or from its last snapshot): a resume hands it all again.
 */
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import type { Direction } from '../format/records.js';
import { classifyFlow, MAX_CLASSIFY_EVENTS } from './classify.js';
import type { KeyStore } from './key-store.js';
import { TlsFramingError, TlsRecordReader } from './record-reader.js';
import { TlsSession } from './session.js';
import { KeyWait, type KeyWaitLimits } from './key-wait.js';
import type { SessionOutput, UndecryptableReason } from './session.js';
import { flowOutcome } from './outcome.js';
import type { TlsFlowOutcome } from './outcome.js';
import { emptyTlsStats } from './stats.js';
import type { TlsStats } from './stats.js';
import { suiteName, versionName } from './suites.js';
import { NOTHING_HELD, type ResumableStage, type StageJson, type StagePoint, type StreamOffsets } from '../flow/resumable.js';
import { decryptorResumeFromJson, decryptorResumeToJson, type DecryptorResume, type TlsResume } from './decryptor-resume.js';

export interface TlsDecryptorOptions extends KeyWaitLimits {
  /** Where the secrets come from; the decryptor subscribes to hear of late ones. */
  readonly keys: KeyStore;
  /** Gets the plaintext flows, and non-TLS flows unchanged. */
  readonly downstream: FlowConsumer;
  /**
   * The clock for key waiting, nanoseconds since the Unix epoch.
   * @default the latest event timestamp seen (event time, so replays behave like live traffic)
   */
  readonly nowNs?: () => bigint;
  /**
   * What the downstream gets of a TLS flow that turns out undecryptable before any
   * plaintext went out: nothing ('drop'), or its original events unchanged
   * ('original', for a clear-text variant that carries such flows encrypted). With
   * 'original' a TLS flow's events are also copied until its first plaintext.
   * @default 'drop'
   */
  readonly undecryptable?: 'drop' | 'original';
  /** Told once per TLS flow what became of it. */
  readonly onOutcome?: (flow: FlowIdentity, outcome: TlsFlowOutcome) => void;
}

export type { TlsFlowOutcome } from './outcome.js';

/** Bytes buffered to decide whether a flow is TLS before calling it plain. */
const MAX_CLASSIFY_BYTES = 65536;

type Mode = 'classifying' | 'plain' | 'tls' | 'done';

interface FlowState {
  /** Marked `decrypted` once plaintext goes downstream. */
  flow: FlowIdentity;
  mode: Mode;
  buffered: FlowEvent[];
  bufferedBytes: number;
  session?: TlsSession;
  readonly readers: [TlsRecordReader, TlsRecordReader];
  readonly readerLost: [boolean, boolean];
  readonly plainOffset: [bigint, bigint];
  openSent: boolean;
  close?: FlowEvent;
  /** The events as they came, kept until the first plaintext when undecryptable flows go on as they are. */
  original?: FlowEvent[];
  damaged?: 'gap' | 'missing' | 'auth-failure';
  /** Resumed mid-stream: per direction, bytes before these offsets were decrypted before the checkpoint. */
  skipBelow?: readonly [bigint, bigint];
  /** The last point a checkpoint could take this flow from (a resume goes on from there). */
  lastPoint?: StagePoint;
}

const FROM_START: StagePoint = { heldFrom: [0, 0] };
const PASSING_PLAIN: StagePoint = { state: 'plain' };
const GIVEN_UP: StagePoint = { state: 'done' };

function newFlowState(flow: FlowIdentity, at: readonly [number, number] = [0, 0]): FlowState {
  return {
    flow,
    mode: 'classifying',
    buffered: [],
    bufferedBytes: 0,
    readers: [new TlsRecordReader(BigInt(at[0])), new TlsRecordReader(BigInt(at[1]))],
    readerLost: [false, false],
    plainOffset: [0n, 0n],
    openSent: false,
  };
}

export class TlsDecryptor implements FlowConsumer, ResumableStage {
  readonly stats: TlsStats = emptyTlsStats();
  private readonly flows = new Map<string, FlowState>();
  /** Flows carried over from a checkpoint, by flow key, until they are opened. */
  private readonly resuming = new Map<string, { readonly resume: DecryptorResume; readonly json: StageJson }>();
  private readonly waiting: KeyWait<FlowState>;
  private readonly clock: () => bigint;
  private readonly unsubscribe: () => void;
  private latestNs = 0n;

  constructor(private readonly options: TlsDecryptorOptions) {
    this.waiting = new KeyWait(options, (state) => this.giveUp(state));
    this.clock = options.nowNs ?? (() => this.latestNs);
    this.unsubscribe = options.keys.subscribe((random) => this.keysArrived(random));
  }

  openFlow(flow: FlowIdentity): void {
    const resuming = this.resuming.get(flow.key);
    if (resuming !== undefined) {
      this.resuming.delete(flow.key);
      this.resumeFlow(flow, resuming.resume, resuming.json);
      return;
    }
    this.flows.set(flow.key, newFlowState(flow));
  }

  holds(_gateway: string, key: string): boolean {
    const mode = this.flows.get(key)?.mode;
    return mode === 'classifying' || mode === 'tls';
  }

  resumePoint(_gateway: string, key: string): StagePoint {
    const state = this.flows.get(key);
    if (state === undefined) return {};
    if (state.mode === 'plain') return PASSING_PLAIN;
    if (state.mode === 'done') return GIVEN_UP;
    if (state.mode === 'classifying') return FROM_START;
    const now = this.recordBoundary(state);
    if (now !== undefined) state.lastPoint = now;
    return state.lastPoint ?? FROM_START;
  }

  expectResume(_gateway: string, key: string, json: StageJson | undefined): void {
    const resume = decryptorResumeFromJson(json);
    if (resume !== undefined && json !== undefined) this.resuming.set(key, { resume, json });
  }

  /** Where a decrypting flow stands when both directions are at a record boundary the session can be snapshot at. */
  private recordBoundary(state: FlowState): StagePoint | undefined {
    const snapshot = state.close === undefined ? state.session?.snapshot() : undefined;
    if (snapshot === undefined) return undefined;
    const lost = (dir: Direction): boolean => state.readerLost[dir] || snapshot.directions[dir].lost;
    const resume: TlsResume = {
      mode: 'tls',
      session: { ...snapshot, directions: [{ ...snapshot.directions[0], lost: lost(0) }, { ...snapshot.directions[1], lost: lost(1) }] },
      at: [Number(state.readers[0].recordStart), Number(state.readers[1].recordStart)],
      plain: [Number(state.plainOffset[0]), Number(state.plainOffset[1])],
      ...(state.damaged !== undefined ? { damaged: state.damaged } : {}),
    };
    return { heldFrom: heldFrom(resume), state: decryptorResumeToJson(resume) };
  }

  /** A flow carried over from a checkpoint goes on from where the decryptor had it. */
  private resumeFlow(flow: FlowIdentity, resume: DecryptorResume, json: StageJson): void {
    if (resume.mode !== 'tls') {
      this.flows.set(flow.key, { ...newFlowState(flow), mode: resume.mode });
      if (resume.mode === 'plain') this.options.downstream.openFlow(flow);
      return;
    }
    const state = newFlowState({ ...flow, decrypted: true }, resume.at);
    state.mode = 'tls';
    state.openSent = true;
    state.skipBelow = [BigInt(resume.at[0]), BigInt(resume.at[1])];
    state.plainOffset[0] = BigInt(resume.plain[0]);
    state.plainOffset[1] = BigInt(resume.plain[1]);
    state.readerLost[0] = resume.session.directions[0].lost;
    state.readerLost[1] = resume.session.directions[1].lost;
    if (resume.damaged !== undefined) state.damaged = resume.damaged;
    state.lastPoint = { heldFrom: heldFrom(resume), state: json };
    this.flows.set(flow.key, state);
    const session = TlsSession.resume(resume.session, (random) => this.options.keys.get(random), this.sessionOutput(state));
    if (session === undefined) {
      // A suite this version does not know: nothing more of the flow can be decrypted.
      state.mode = 'done';
      return;
    }
    state.session = session;
    this.options.downstream.openFlow(state.flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (event.tsNs > this.latestNs) this.latestNs = event.tsNs;
    const state = this.flows.get(flow.key);
    if (state === undefined) {
      // Never opened here: not ours to judge, pass it on.
      this.options.downstream.flowEvent(flow, event);
    } else if (state.mode === 'plain') {
      this.options.downstream.flowEvent(flow, event);
      if (event.kind === 'close') this.flows.delete(flow.key);
    } else if (state.mode === 'tls') {
      state.original?.push(event.kind === 'data' ? { ...event, payload: Buffer.from(event.payload) } : event);
      this.feedTls(state, event);
    } else if (state.mode === 'classifying') {
      this.classify(state, event);
    } else if (event.kind === 'close') {
      this.flows.delete(flow.key);
    }
    this.waiting.sweep(this.clock());
  }

  /** Gives up every flow still waiting for secrets (end of a run). */
  flush(): void {
    for (const state of this.waiting.waitingFlows()) this.giveUp(state);
  }

  /** Stops listening to the key store. */
  close(): void {
    this.unsubscribe();
  }

  private classify(state: FlowState, event: FlowEvent): void {
    state.buffered.push(event);
    if (event.kind === 'data') state.bufferedBytes += event.payload.length;
    let kind = classifyFlow(state.buffered);
    if (kind === 'unknown' && (event.kind === 'close' || state.bufferedBytes > MAX_CLASSIFY_BYTES || state.buffered.length > MAX_CLASSIFY_EVENTS)) kind = 'plain';
    if (kind === 'unknown') {
      // Held beyond this call: the payload may be a view into a buffer its owner reuses.
      if (event.kind === 'data') state.buffered[state.buffered.length - 1] = { ...event, payload: Buffer.from(event.payload) };
      return;
    }
    const events = state.buffered;
    state.buffered = [];
    if (kind === 'plain') {
      state.mode = 'plain';
      this.stats.plainFlows++;
      this.options.downstream.openFlow(state.flow);
      for (const buffered of events) this.flowEvent(state.flow, buffered);
      return;
    }
    state.mode = 'tls';
    if (this.options.undecryptable === 'original') state.original = [];
    state.session = new TlsSession((random) => this.options.keys.get(random), this.sessionOutput(state));
    if (kind === 'tls-without-client-hello') {
      this.undecryptable(state, 'no-client-hello', 'the client-to-server stream starts with missing bytes');
    }
    for (const buffered of events) this.flowEvent(state.flow, buffered);
  }

  private feedTls(state: FlowState, event: FlowEvent): void {
    const session = state.session as TlsSession;
    if (event.kind === 'close') {
      state.close = event;
      this.finishIfDone(state);
      return;
    }
    const dir = event.dir;
    if (state.readerLost[dir]) return;
    const skip = state.skipBelow?.[dir];
    if (skip !== undefined && event.offset < skip) {
      const rest = afterOffset(event, skip);
      if (rest !== undefined) this.feedTls(state, rest);
      return;
    }
    if (event.kind === 'hole') {
      state.readerLost[dir] = true;
      session.push(dir, { kind: 'hole', cause: event.cause, length: event.length, tsNs: event.tsNs });
    } else {
      try {
        state.readers[dir].push(event.payload, event.tsNs, (record) => session.push(dir, { kind: 'record', record }));
      } catch (error) {
        if (!(error instanceof TlsFramingError)) throw error;
        state.readerLost[dir] = true;
        session.fail(dir, 'malformed', error.message, BigInt(event.payload.length), event.tsNs);
      }
    }
    // a flow's wait counts from its own capture time: read behind other gateways, it gets no fresh wait
    this.updateWaiting(state, this.options.nowNs?.() ?? event.tsNs);
  }

  private sessionOutput(state: FlowState): SessionOutput {
    const downstream = this.options.downstream;
    return {
      plaintext: (dir: Direction, content: Buffer, tsNs: bigint): void => {
        const offset = state.plainOffset[dir];
        state.plainOffset[dir] = offset + BigInt(content.length);
        this.stats.plaintextBytes += content.length;
        downstream.flowEvent(state.flow, { kind: 'data', dir, tsNs, offset, payload: content });
      },
      committed: (): void => {
        const session = state.session as TlsSession;
        this.stats.decryptedFlows++;
        const version = versionName(session.serverHello?.version ?? 0);
        const suite = suiteName(session.suite?.id ?? 0);
        this.stats.byVersion[version] = (this.stats.byVersion[version] ?? 0) + 1;
        this.stats.bySuite[suite] = (this.stats.bySuite[suite] ?? 0) + 1;
        state.openSent = true;
        state.original = undefined;
        state.flow = { ...state.flow, decrypted: true };
        downstream.openFlow(state.flow);
      },
      lost: (dir: Direction, cause: 'gap' | 'missing' | 'auth-failure', length: bigint, tsNs: bigint): void => {
        if (cause === 'auth-failure') this.stats.authFailures++;
        if (state.damaged === undefined) this.stats.damagedFlows++;
        state.damaged ??= cause;
        const holeCause = cause === 'gap' ? 'gap' : 'missing';
        downstream.flowEvent(state.flow, { kind: 'hole', dir, tsNs, offset: state.plainOffset[dir], length, cause: holeCause });
      },
      failed: (reason: UndecryptableReason, detail: string): void => {
        if (reason === 'auth-failure') this.stats.authFailures++;
        this.undecryptable(state, reason, detail);
      },
      decrypted: (): void => {
        this.stats.records++;
      },
    };
  }

  private undecryptable(state: FlowState, reason: UndecryptableReason, detail: string): void {
    if (state.mode === 'done') return;
    state.mode = 'done';
    state.session?.clear();
    if (state.session !== undefined) state.session.done = true;
    this.stopWaiting(state);
    this.stats.undecryptable[reason]++;
    this.options.onOutcome?.(state.flow, flowOutcome(state.session, { decrypted: false, reason, detail }));
    if (state.original !== undefined) this.passOriginal(state);
    else if (state.close !== undefined) this.flows.delete(state.flow.key);
  }

  /** An undecryptable flow goes downstream as it came, from its first event on. */
  private passOriginal(state: FlowState): void {
    const events = state.original as FlowEvent[];
    state.original = undefined;
    state.mode = 'plain';
    this.options.downstream.openFlow(state.flow);
    for (const event of events) this.options.downstream.flowEvent(state.flow, event);
    if (events.at(-1)?.kind === 'close') this.flows.delete(state.flow.key);
  }

  /** Starts (counted from `sinceNs`), keeps or ends the key wait of a flow after its session moved. */
  private updateWaiting(state: FlowState, sinceNs: bigint): void {
    const session = state.session as TlsSession;
    if (state.mode !== 'tls' || !session.hasQueued) {
      this.stopWaiting(state);
      return;
    }
    this.waiting.wait(state, session.clientRandom, sinceNs);
    this.waiting.hold(state, session.queuedBytes);
  }

  private stopWaiting(state: FlowState): void {
    this.waiting.forget(state);
  }

  private keysArrived(clientRandom: string): void {
    for (const state of this.waiting.withRandom(clientRandom)) {
      const session = state.session as TlsSession;
      session.pump();
      this.updateWaiting(state, this.clock());
      this.finishIfDone(state);
    }
  }


  /** The wait is over: what is held can never be decrypted. */
  private giveUp(state: FlowState): void {
    const session = state.session as TlsSession;
    this.stopWaiting(state);
    const reason: UndecryptableReason = session.serverHello === undefined ? 'no-server-hello' : 'no-keys';
    const detail = reason === 'no-keys' ? 'no secrets for the client random in time' : 'no ServerHello';
    session.giveUp(reason, detail, this.clock());
    if (state.mode === 'tls' && state.close !== undefined) this.finish(state);
  }

  /** After the close event: ends the flow once nothing is held any more. */
  private finishIfDone(state: FlowState): void {
    if (state.close === undefined || state.mode !== 'tls') return;
    const session = state.session as TlsSession;
    if (session.hasQueued) {
      // Only a wait for secrets can still end well; a wait for the ServerHello cannot.
      if (session.serverHello !== undefined && session.waitingForKeys) return;
      this.giveUp(state);
      return;
    }
    this.finish(state);
  }

  private finish(state: FlowState): void {
    const session = state.session as TlsSession;
    this.flows.delete(state.flow.key);
    this.stopWaiting(state);
    // A session that decrypted but carried no application data is an empty decrypted flow.
    if (session.recordsDecrypted > 0 && !session.done) session.commit();
    if (!state.openSent) {
      const noKeys = session.clientRandom !== '' && this.options.keys.get(session.clientRandom) === undefined;
      const reason = session.serverHello === undefined ? 'no-server-hello' : noKeys ? 'no-keys' : 'malformed';
      this.undecryptable(state, reason, 'the flow closed before any record was decrypted');
      return;
    }
    state.mode = 'done';
    this.options.downstream.flowEvent(state.flow, state.close as FlowEvent);
    this.options.onOutcome?.(state.flow, flowOutcome(session, { decrypted: true, damaged: state.damaged }));
  }
}

/** Per direction, where a resume must hand the flow's bytes again from (a lost direction: nowhere). */
function heldFrom(resume: TlsResume): StreamOffsets {
  const dirs = resume.session.directions;
  return [dirs[0].lost ? NOTHING_HELD : resume.at[0], dirs[1].lost ? NOTHING_HELD : resume.at[1]];
}

/** The part of a data or hole event from `offset` on; undefined when it all lies before. */
function afterOffset(event: FlowEvent & { kind: 'data' | 'hole' }, offset: bigint): FlowEvent | undefined {
  const cut = offset - event.offset;
  if (event.kind === 'data') {
    return cut >= BigInt(event.payload.length) ? undefined : { ...event, offset, payload: event.payload.subarray(Number(cut)) };
  }
  return cut >= event.length ? undefined : { ...event, offset, length: event.length - cut };
}
