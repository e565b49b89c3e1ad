/**
 * One end of a synthesised TCP connection as a sender: its headers, its
 * sequence space (relative to its ISN: the SYN is 0, stream byte N is 1 + N),
 * and what the peer has acknowledged of it.
 */
import { TcpFlags, type TcpFields, type TcpSynOptions } from '../packet/tcp.js';
import type { SegmentOutput, TcpPath } from '../packet/tcp-frame.js';

/** Window scale both ends announce (Linux's usual 7): 65535 << 7, about 8 MiB. */
export const WINDOW_SCALE = 7;
export const WINDOW_FIELD = 65535;
export const WINDOW_BYTES = WINDOW_FIELD << WINDOW_SCALE;
const SYN_WINDOW = 65535;

/** What a checkpoint keeps of one end (relative sequence numbers). */
export interface EndpointState {
  readonly sendNext: number;
  readonly seenNext: number;
  readonly acked: number;
  readonly window: number;
  readonly ipId: number;
}

export class TcpEndpoint {
  /** Relative sequence of the next byte this end sends (jumps over holes). */
  sendNext = 1;
  /** Relative sequence just after the last segment that was really emitted: all a peer may acknowledge. */
  seenNext = 1;
  /** Highest relative acknowledgement the peer has sent for this end's stream. */
  acked = 0;
  /** The receive window this end advertised last, in bytes (a SYN's is unscaled). */
  window = 0;
  peer!: TcpEndpoint;
  private readonly sourcePort: number;
  private readonly destinationPort: number;

  constructor(
    private readonly output: SegmentOutput,
    private readonly path: TcpPath,
    ports: { readonly source: number; readonly destination: number },
    private readonly isn: number,
    /** Payload bytes per segment towards the peer (the peer's MSS, capped). */
    readonly segmentPayload: number,
  ) {
    this.sourcePort = ports.source;
    this.destinationPort = ports.destination;
  }

  state(): EndpointState {
    return { sendNext: this.sendNext, seenNext: this.seenNext, acked: this.acked, window: this.window, ipId: this.path.nextIpId };
  }

  /** Goes on from a checkpointed state: the same sequence numbers, no new handshake. */
  restore(state: EndpointState): void {
    this.sendNext = state.sendNext;
    this.seenNext = state.seenNext;
    this.acked = state.acked;
    this.window = state.window;
    this.path.nextIpId = state.ipId;
  }

  /** Bytes emitted and not yet acknowledged by the peer. */
  get unacked(): number {
    return this.seenNext - this.acked;
  }

  syn(tsNs: bigint, options: TcpSynOptions, ackPeer: boolean): void {
    this.send(tsNs, TcpFlags.SYN | (ackPeer ? TcpFlags.ACK : 0), 0, EMPTY, 0, 0, options);
    this.seenNext = 1;
  }

  /** A segment of stream data, `payload[start, end)`, at relative sequence `seq`. */
  data(tsNs: bigint, seq: number, payload: Buffer, start: number, end: number, push: boolean): void {
    this.send(tsNs, TcpFlags.ACK | (push ? TcpFlags.PSH : 0), seq, payload, start, end);
    this.sendNext = seq + (end - start);
    this.seenNext = this.sendNext;
  }

  /** A pure ACK of everything the peer has emitted. */
  ack(tsNs: bigint): void {
    this.send(tsNs, TcpFlags.ACK, this.sendNext, EMPTY, 0, 0);
  }

  fin(tsNs: bigint): void {
    this.send(tsNs, TcpFlags.FIN | TcpFlags.ACK, this.sendNext, EMPTY, 0, 0);
    this.sendNext++;
    this.seenNext = this.sendNext;
  }

  rst(tsNs: bigint): void {
    this.send(tsNs, TcpFlags.RST | TcpFlags.ACK, this.sendNext, EMPTY, 0, 0);
  }

  /** Whether the peer has something new to acknowledge. */
  owesAck(): boolean {
    return this.peer.seenNext > this.peer.acked;
  }

  private send(tsNs: bigint, flags: number, seq: number, payload: Buffer, start: number, end: number, synOptions?: TcpSynOptions): void {
    const carriesAck = (flags & TcpFlags.ACK) !== 0;
    if (carriesAck) this.peer.acked = this.peer.seenNext;
    this.window = synOptions === undefined ? WINDOW_BYTES : SYN_WINDOW;
    const fields = SEGMENT_FIELDS;
    fields.sourcePort = this.sourcePort;
    fields.destinationPort = this.destinationPort;
    fields.seq = (this.isn + seq) >>> 0;
    fields.ack = carriesAck ? (this.peer.isn + this.peer.seenNext) >>> 0 : 0;
    fields.flags = flags;
    // A SYN's window is never scaled (RFC 7323 2.2).
    fields.window = synOptions === undefined ? WINDOW_FIELD : SYN_WINDOW;
    fields.synOptions = synOptions;
    this.output.segment(tsNs, this.path, fields, payload, start, end);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The TCP fields of the segment being sent, shared by every endpoint (one object per
 * endpoint adds up at 100,000 open flows): rewritten for every packet, and the output
 * reads it during the call only.
 */
const SEGMENT_FIELDS: { -readonly [K in keyof TcpFields]: TcpFields[K] } = {
  sourcePort: 0, destinationPort: 0, seq: 0, ack: 0, flags: 0, window: 0, synOptions: undefined,
};
