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
import { clientHelloRandom, CLIENT_RANDOM_END } from '../tls/hello.js';
import { KeyWait, type KeyWaitLimits } from '../tls/key-wait.js';
import type { ResumableStage, StageJson, StagePoint } from '../flow/resumable.js';

/** The limits of the wait (tls/key-wait.ts); a flow that reaches one goes on without its keys. */
export type KeyGateOptions = KeyWaitLimits;

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
  private readonly waiting: KeyWait<Held>;
  private latestNs = 0n;
  private readonly unsubscribe: () => void;

  constructor(private readonly keys: KeyStore, private readonly next: FlowConsumer, options: KeyGateOptions = {}) {
    this.waiting = new KeyWait(options, (held) => this.release(held));
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
      // Holding more may have sent it on (over its share of the limits): then it is decided.
      if (this.held.get(key(flow)) === held && !this.waiting.isWaiting(held)) this.decide(held);
    }
    this.waiting.sweep(this.latestNs);
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
      this.waiting.hold(held, held.bytes);
    }
  }

  /** Plain or undecidable flows go on; a TLS flow with a known client random waits unless its keys are here. */
  private decide(held: Held): void {
    const kind = classifyFlow(held.events);
    const closed = held.events.at(-1)?.kind === 'close';
    if (kind === 'plain' || kind === 'tls-without-client-hello') return this.release(held);
    if (kind === 'unknown') {
      if (closed || held.bytes > this.waiting.keyWaitBytes || held.events.length > MAX_CLASSIFY_EVENTS) this.release(held);
      return;
    }
    const random = clientRandom(held.events);
    if (random === undefined) {
      if (closed) this.release(held);
      return;
    }
    if (this.keys.get(random) !== undefined) return this.release(held);
    this.waiting.wait(held, random, held.firstNs);
  }

  private release(held: Held): void {
    this.held.delete(key(held.flow));
    this.waiting.forget(held);
    this.next.openFlow(held.flow);
    for (const event of held.events) this.next.flowEvent(held.flow, event);
  }
}

function key(flow: FlowIdentity): string {
  return `${flow.gateway}/${flow.key}`;
}

/** The ClientHello's random (hex) from the first client-to-server bytes, once enough of them are in. */
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
  return clientHelloRandom(Buffer.concat(start));
}
