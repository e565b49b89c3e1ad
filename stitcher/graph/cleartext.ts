/**
 * The clear-text variant: TLS flows decrypted with the tapped session keys and
 * rebuilt as plain TCP connections on a mapped server port (443 -> 80), for
 * sensors that cannot decrypt. Plain flows pass unchanged; a TLS flow that cannot
 * be decrypted goes on as it was (encrypted) and is counted with the reason.
 */
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import type { KeyStore } from '../tls/key-store.js';
import { TlsDecryptor, type TlsFlowOutcome } from '../tls/decryptor.js';
import { emptyTlsStats, type TlsStats } from '../tls/stats.js';
import type { Logger } from '../observe/log.js';

export interface CleartextOptions extends CleartextSettings {
  /** Where the session keys are (the stitch run feeds it from the key objects). */
  readonly keys: KeyStore;
  readonly logger: Logger;
  /** How long (capture time) a TLS flow waits for its keys. @default DEFAULT_KEY_WAIT_MS (contract/stitcher-config.ts) */
  readonly keyWaitMs?: number;
}

/** What a caller of stitch() chooses about the clear-text variant (the run supplies its keys and logger). */
export interface CleartextSettings {
  /** Server ports of decrypted flows, mapped. @default 443 -> 80 */
  readonly portMap?: ReadonlyMap<number, number>;
  /** Bytes each decryptor may hold (its share of the memory budget). @default the decryptor's own */
  readonly maxHeldBytes?: number;
}

export const DEFAULT_PORT_MAP: ReadonlyMap<number, number> = new Map([[443, 80]]);

export class CleartextSide {
  /** One per clear-text branch of the export graph (it builds them). */
  readonly decryptors: TlsDecryptor[] = [];

  constructor(private readonly options: CleartextOptions) {}

  get keys(): KeyStore {
    return this.options.keys;
  }

  /** The decrypting stage in front of the clear-text synthesisers (see ExportGraph). */
  readonly stage = (downstream: FlowConsumer): FlowConsumer => {
    const decryptor = new TlsDecryptor({
      keys: this.keys,
      downstream: new PortMappedFlows(this.options.portMap ?? DEFAULT_PORT_MAP, downstream),
      undecryptable: 'original',
      ...(this.options.keyWaitMs !== undefined ? { keyWaitMs: this.options.keyWaitMs } : {}),
      ...(this.options.maxHeldBytes !== undefined ? { maxHeldBytes: this.options.maxHeldBytes } : {}),
      onOutcome: this.logOutcome,
    });
    this.decryptors.push(decryptor);
    return decryptor;
  };

  /** End of a run: flows still waiting for keys give up (and go on encrypted). */
  flush(): void {
    for (const decryptor of this.decryptors) decryptor.flush();
  }

  get stats(): TlsStats {
    return this.decryptors[0]?.stats ?? emptyTlsStats();
  }

  private readonly logOutcome = (flow: FlowIdentity, outcome: TlsFlowOutcome): void => {
    if (outcome.decrypted && outcome.damaged === undefined) return;
    this.options.logger.info(outcome.decrypted ? 'decrypted flow lost part of a direction' : 'TLS flow not decrypted', {
      flow: flow.key, gateway: flow.gateway, reason: outcome.reason ?? outcome.damaged, detail: outcome.detail,
      version: outcome.version, suite: outcome.suite,
    });
  };
}

/** Moves the server port of decrypted flows (443 -> 80) so sensors parse them as plain HTTP. */
class PortMappedFlows implements FlowConsumer {
  private readonly mapped = new Map<string, FlowIdentity>();

  constructor(private readonly portMap: ReadonlyMap<number, number>, private readonly next: FlowConsumer) {}

  openFlow(flow: FlowIdentity): void {
    const port = flow.decrypted === true ? this.portMap.get(flow.open.serverPort) : undefined;
    const mapped = port === undefined ? flow : { ...flow, open: { ...flow.open, serverPort: port } };
    this.mapped.set(flow.key, mapped);
    this.next.openFlow(mapped);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const mapped = this.mapped.get(flow.key) ?? flow;
    if (event.kind === 'close') this.mapped.delete(flow.key);
    this.next.flowEvent(mapped, event);
  }
}

/** `443:80,8443:8080` */
export function parsePortMap(text: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const pair of text.split(',').filter((p) => p !== '')) {
    const match = /^(\d{1,5}):(\d{1,5})$/.exec(pair.trim());
    const from = Number(match?.[1]);
    const to = Number(match?.[2]);
    if (match === null || from < 1 || from > 65535 || to < 1 || to > 65535) {
      throw new Error(`--cleartext-ports: '${pair}' is not <tls port>:<clear-text port> (e.g. 443:80)`);
    }
    map.set(from, to);
  }
  return map;
}
