/**
 * Holds the TLS flows of the original variant until their session keys are known
 * (or `keyWait` of capture time, or `keyWaitBytes`, has passed), so that a pcapng
 * output writes the Decryption Secrets Block before the packets it unlocks: keys
 * may land after the traffic. Plain flows pass at once; a flow that waited in vain
 * goes on as it came (encrypted, with no keys in the file).
 *
 * For checkpoints a held flow is held from its start (a resume hands it all
 * again); a flow let through is 'passed', and a resume lets it through at once.
 */
import { Direction } from '../format/records.js';
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import { classifyFlow, MAX_CLASSIFY_EVENTS } from '../tls/classify.js';
import type { KeyStore } from '../tls/key-store.js';
import { WaitingFlows } from '../tls/waiting-flows.js';
import type { ResumableStage, StageJson, StagePoint } from '../flow/resumable.js';

export interface KeyGateOptions {
  /** Capture time a TLS flow waits for its keys. @default 30000 */
  readonly keyWaitMs?: number;
  /** Bytes one flow may hold while it waits. @default 4 MiB */
  readonly keyWaitBytes?: number;
  /** Bytes all waiting flows may hold; past it the oldest go on. @default 256 MiB */
  readonly maxHeldBytes?: number;
}

/** Record header (5) + handshake header (4) + client_version (2) + random (32). */
const CLIENT_RANDOM_END = 43;
const CLIENT_RANDOM_START = 11;
/** Deadlines are looked at when capture time has moved on this much. */
const DEADLINE_CHECK_NS = 100_000_000n;

interface Held {
  readonly flow: FlowIdentity;
  readonly events: FlowEvent[];
  bytes: number;
  readonly firstNs: bigint;
}

const PASSED: StagePoint = { state: 'passed' };
const HELD: StagePoint = { heldFrom: [0, 0] };

export class KeyGate implements FlowConsumer, ResumableStage {
  private readonly held = new Map<string, Held>();
  /** Flows carried over from a checkpoint that had passed the gate already. */
  private readonly resumedPassed = new Set<string>();
  private readonly waiting = new WaitingFlows<Held>();
  private readonly keyWaitNs: bigint;
  private readonly keyWaitBytes: number;
  private readonly maxHeldBytes: number;
  private heldBytes = 0;
  private latestNs = 0n;
  private checkedNs = 0n;
  private readonly unsubscribe: () => void;

  constructor(private readonly keys: KeyStore, private readonly next: FlowConsumer, options: KeyGateOptions = {}) {
    this.keyWaitNs = BigInt(options.keyWaitMs ?? 30_000) * 1_000_000n;
    this.keyWaitBytes = options.keyWaitBytes ?? 4 * 1024 * 1024;
    this.maxHeldBytes = options.maxHeldBytes ?? 256 * 1024 * 1024;
    this.unsubscribe = keys.subscribe((random) => {
      for (const held of this.waiting.withRandom(random)) this.release(held);
    });
  }

  openFlow(flow: FlowIdentity): void {
    if (this.resumedPassed.delete(key(flow))) {
      this.next.openFlow(flow);
      return;
    }
    this.held.set(key(flow), { flow, events: [], bytes: 0, firstNs: flow.open.tsNs });
  }

  holds(gateway: string, flowKey: string): boolean {
    return this.held.has(`${gateway}/${flowKey}`);
  }

  resumePoint(gateway: string, flowKey: string): StagePoint {
    return this.holds(gateway, flowKey) ? HELD : PASSED;
  }

  expectResume(gateway: string, flowKey: string, state: StageJson | undefined): void {
    if (state === 'passed') this.resumedPassed.add(`${gateway}/${flowKey}`);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (event.tsNs > this.latestNs) this.latestNs = event.tsNs;
    const held = this.held.get(key(flow));
    if (held === undefined) {
      this.next.flowEvent(flow, event);
    } else {
      this.hold(held, event);
      if (!this.waiting.has(held)) this.decide(held);
    }
    if (this.latestNs - this.checkedNs > DEADLINE_CHECK_NS) this.releaseOverdue();
  }

  /** End of a run: every flow still waiting goes on as it is. */
  flush(): void {
    for (const held of [...this.held.values()]) this.release(held);
    this.unsubscribe();
  }

  private hold(held: Held, event: FlowEvent): void {
    // Held beyond this call: the payload may be a view into a block that is reused.
    const kept = event.kind === 'data' ? { ...event, payload: Buffer.from(event.payload) } : event;
    held.events.push(kept);
    if (kept.kind === 'data') {
      held.bytes += kept.payload.length;
      this.heldBytes += kept.payload.length;
    }
  }

  /** Plain or undecidable flows go on; a TLS flow with a known client random waits unless its keys are here. */
  private decide(held: Held): void {
    const kind = classifyFlow(held.events);
    const closed = held.events.at(-1)?.kind === 'close';
    if (kind === 'plain' || kind === 'tls-without-client-hello') return this.release(held);
    if (kind === 'unknown') {
      if (closed || held.bytes > this.keyWaitBytes || held.events.length > MAX_CLASSIFY_EVENTS) this.release(held);
      return;
    }
    const random = clientRandom(held.events);
    if (random === undefined) {
      if (closed) this.release(held);
      return;
    }
    if (this.keys.get(random) !== undefined) return this.release(held);
    this.waiting.add(held, random);
  }

  private releaseOverdue(): void {
    this.checkedNs = this.latestNs;
    for (const held of this.waiting.snapshot()) {
      if (this.latestNs - held.firstNs > this.keyWaitNs || held.bytes > this.keyWaitBytes) this.release(held);
    }
    if (this.heldBytes <= this.maxHeldBytes) return;
    const oldest = this.waiting.snapshot().sort((a, b) => (a.firstNs < b.firstNs ? -1 : 1));
    for (const held of oldest) {
      if (this.heldBytes <= this.maxHeldBytes) break;
      this.release(held);
    }
  }

  private release(held: Held): void {
    this.held.delete(key(held.flow));
    this.waiting.delete(held);
    this.heldBytes -= held.bytes;
    this.next.openFlow(held.flow);
    for (const event of held.events) this.next.flowEvent(held.flow, event);
  }
}

function key(flow: FlowIdentity): string {
  return `${flow.gateway}/${flow.key}`;
}

/** The ClientHello's random (hex) from the first client-to-server bytes, once 43 of them are in. */
function clientRandom(events: readonly FlowEvent[]): string | undefined {
  const start: Buffer[] = [];
  let length = 0;
  for (const event of events) {
    if (event.kind !== 'data' || event.dir !== Direction.ClientToServer) continue;
    if (event.offset !== BigInt(length)) break;
    start.push(event.payload);
    length += event.payload.length;
    if (length >= CLIENT_RANDOM_END) break;
  }
  if (length < CLIENT_RANDOM_END) return undefined;
  return Buffer.concat(start).subarray(CLIENT_RANDOM_START, CLIENT_RANDOM_END).toString('hex');
}
