/** Feeds captured flow events through a TlsDecryptor and collects what comes out. */
import { Direction } from '../../../stitcher/format/records.js';
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../../../stitcher/flow/events.js';
import { TlsDecryptor } from '../../../stitcher/tls/decryptor.js';
import type { TlsDecryptorOptions, TlsFlowOutcome } from '../../../stitcher/tls/decryptor.js';
import { KeyStore } from '../../../stitcher/tls/key-store.js';
import { parseKeyLog } from '../../../stitcher/tls/keylog.js';

/** Records what a FlowConsumer is handed, per flow, and checks the event order rules. */
export class CollectingConsumer implements FlowConsumer {
  readonly opened: string[] = [];
  readonly events = new Map<string, FlowEvent[]>();

  openFlow(flow: FlowIdentity): void {
    if (this.events.has(flow.key)) throw new Error(`flow ${flow.key} opened twice`);
    this.opened.push(flow.key);
    this.events.set(flow.key, []);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const events = this.events.get(flow.key);
    if (events === undefined) throw new Error(`event for flow ${flow.key} before openFlow`);
    if (events.at(-1)?.kind === 'close') throw new Error(`event for flow ${flow.key} after close`);
    events.push(event);
  }

  /** The bytes of one direction, checking that offsets run on without gaps. */
  stream(key: string, dir: Direction): Buffer {
    const pieces: Buffer[] = [];
    let offset = 0n;
    for (const event of this.events.get(key) ?? []) {
      if (event.kind !== 'data' || event.dir !== dir) continue;
      if (event.offset !== offset) throw new Error(`offset ${event.offset}, expected ${offset}`);
      pieces.push(event.payload);
      offset += BigInt(event.payload.length);
    }
    return Buffer.concat(pieces);
  }
}

export interface DecryptRun {
  readonly decryptor: TlsDecryptor;
  readonly downstream: CollectingConsumer;
  readonly keys: KeyStore;
  readonly outcomes: Map<string, TlsFlowOutcome>;
  clientToServer(flow: FlowIdentity): Buffer;
  serverToClient(flow: FlowIdentity): Buffer;
}

/** A decryptor with a fresh key store (holding `keylog` when given) and a collecting downstream. */
export function decryptorRun(keylog: string | undefined, options: Partial<TlsDecryptorOptions> = {}): DecryptRun {
  const keys = new KeyStore();
  if (keylog !== undefined) keys.add(parseKeyLog(keylog).entries);
  const downstream = new CollectingConsumer();
  const outcomes = new Map<string, TlsFlowOutcome>();
  const decryptor = new TlsDecryptor({
    keys,
    downstream,
    onOutcome: (flow, outcome) => {
      if (outcomes.has(flow.key)) throw new Error(`two outcomes for flow ${flow.key}`);
      outcomes.set(flow.key, outcome);
    },
    ...options,
  });
  return {
    decryptor,
    downstream,
    keys,
    outcomes,
    clientToServer: (flow) => downstream.stream(flow.key, Direction.ClientToServer),
    serverToClient: (flow) => downstream.stream(flow.key, Direction.ServerToClient),
  };
}

/** Hands a whole flow to a consumer. */
export function feed(consumer: FlowConsumer, flow: FlowIdentity, events: readonly FlowEvent[]): void {
  consumer.openFlow(flow);
  for (const event of events) consumer.flowEvent(flow, event);
}
