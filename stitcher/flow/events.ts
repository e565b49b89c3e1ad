/**
 * What flow reassembly hands on, per flow, in order: one `open`, then the
 * bytes of both directions interleaved by time (each direction contiguous
 * except where a `hole` says bytes are missing), then one `close`.
 * The packet synthesiser and the TLS decryptor both consume this.
 */
import type { CloseReason, Direction, FlowOpenRecord } from '../format/records.js';
import type { DirectionAccount } from './direction-buffer.js';

export interface FlowIdentity {
  /** 32 lowercase hex characters of the CTAP flow_id. */
  readonly key: string;
  readonly gateway: string;
  readonly open: FlowOpenRecord;
  /** Set by the TLS decryptor on flows it hands on as plaintext (the clear-text variant). */
  readonly decrypted?: boolean;
}

export interface FlowDataEvent {
  readonly kind: 'data';
  readonly dir: Direction;
  readonly tsNs: bigint;
  /** Position of payload[0] in that direction's stream. */
  readonly offset: bigint;
  /**
   * May be a view into the block being ingested: valid during the call only.
   * A consumer that keeps bytes copies them.
   */
  readonly payload: Buffer;
}

export interface FlowHoleEvent {
  readonly kind: 'hole';
  readonly dir: Direction;
  readonly tsNs: bigint;
  readonly offset: bigint;
  readonly length: bigint;
  /** 'gap': the gateway said so (GAP record); 'missing': never arrived. */
  readonly cause: 'gap' | 'missing';
}

export interface FlowCloseEvent {
  readonly kind: 'close';
  readonly tsNs: bigint;
  /** Undefined when the stitcher closed the flow itself (end of a --once run, idle, caps). */
  readonly reason: CloseReason | undefined;
  /** Where the bytes of each direction went (client-to-server, server-to-client); absent on closes made downstream. */
  readonly accounts?: readonly [DirectionAccount, DirectionAccount];
}

export type FlowEvent = FlowDataEvent | FlowHoleEvent | FlowCloseEvent;

/** A consumer of reassembled flows (packet synthesis, TLS decryption, ...). */
export interface FlowConsumer {
  openFlow(flow: FlowIdentity): void;
  flowEvent(flow: FlowIdentity, event: FlowEvent): void;
}
