/**
 * One flow turned into the packets a capture on the user's host would show:
 * handshake, data segmented to the receiver's MSS with ACKs from the receiver,
 * holes as sequence jumps, and the close the FLOW_CLOSE reason implies.
 */
import { crc32 } from 'node:zlib';
import { CloseReason, Direction } from '../format/records.js';
import { localMac } from '../packet/ethernet.js';
import { TcpPath, type SegmentOutput } from '../packet/tcp-frame.js';
import type { FlowIdentity } from './events.js';
import { TcpEndpoint, WINDOW_BYTES, WINDOW_SCALE, type EndpointState } from './tcp-endpoint.js';

export type { EndpointState } from './tcp-endpoint.js';

/** What a checkpoint keeps of a synthesised connection. */
export interface ConnectionState {
  readonly lastTs: bigint;
  readonly client: EndpointState;
  readonly server: EndpointState;
}

/**
 * How a connection carried over from a checkpoint goes on: from its saved state,
 * or (outputs changed since) from the stream offsets exported alone, with the
 * IP IDs where they started.
 */
export interface ConnectionResume {
  readonly state?: ConnectionState;
  /** Stream offsets handed on (client-to-server, server-to-client). */
  readonly exported: readonly [number, number];
}

/** MSS a host announces when the FLOW_OPEN has none: Ethernet MTU 1500 less the IP and TCP headers. */
export const DEFAULT_MSS_IPV4 = 1460;
export const DEFAULT_MSS_IPV6 = 1440;
/** The most TCP payload an IPv4 or IPv6 packet can carry. */
const MAX_SEGMENT = 65535 - 60 - 20;

export interface ConnectionOptions {
  readonly maxSegmentPayload: number;
  readonly ackEverySegments: number;
}

export class TcpConnection {
  private readonly client: TcpEndpoint;
  private readonly server: TcpEndpoint;
  private readonly clientMss: number;
  private readonly serverMss: number;
  private lastTs: bigint;

  constructor(flow: FlowIdentity, private readonly options: ConnectionOptions, output: SegmentOutput) {
    const open = flow.open;
    const defaultMss = open.ipVersion === 4 ? DEFAULT_MSS_IPV4 : DEFAULT_MSS_IPV6;
    this.clientMss = validMss(open.tags.clientMss) ?? defaultMss;
    this.serverMss = validMss(open.tags.serverMss) ?? defaultMss;
    // The host's own NIC, and the router every packet to the destination goes through.
    const clientMac = localMac(open.clientIp);
    const routerMac = localMac(Buffer.from(flow.gateway), 1);
    const seed = open.flowId;
    const clientPath = new TcpPath({
      ipVersion: open.ipVersion, sourceMac: clientMac, destinationMac: routerMac,
      sourceIp: open.clientIp, destinationIp: open.serverIp, firstIpId: crc32(seed, 1) & 0xffff,
    });
    const serverPath = new TcpPath({
      ipVersion: open.ipVersion, sourceMac: routerMac, destinationMac: clientMac,
      sourceIp: open.serverIp, destinationIp: open.clientIp, firstIpId: crc32(seed, 2) & 0xffff,
    });
    const cap = Math.min(options.maxSegmentPayload, MAX_SEGMENT);
    this.client = new TcpEndpoint(output, clientPath, { source: open.clientPort, destination: open.serverPort },
      crc32(seed, 3), Math.min(this.serverMss, cap));
    this.server = new TcpEndpoint(output, serverPath, { source: open.serverPort, destination: open.clientPort },
      crc32(seed, 4), Math.min(this.clientMss, cap));
    this.client.peer = this.server;
    this.server.peer = this.client;
    this.lastTs = open.tsNs;
  }

  state(): ConnectionState {
    return { lastTs: this.lastTs, client: this.client.state(), server: this.server.state() };
  }

  /** Instead of the handshake: goes on where a checkpoint left the connection. */
  resume(resume: ConnectionResume): void {
    if (resume.state !== undefined) {
      this.client.restore(resume.state.client);
      this.server.restore(resume.state.server);
      if (resume.state.lastTs > this.lastTs) this.lastTs = resume.state.lastTs;
      return;
    }
    const [c2s, s2c] = resume.exported;
    this.client.restore({ ...this.client.state(), sendNext: 1 + c2s, seenNext: 1 + c2s, acked: 1 + c2s, window: WINDOW_BYTES });
    this.server.restore({ ...this.server.state(), sendNext: 1 + s2c, seenNext: 1 + s2c, acked: 1 + s2c, window: WINDOW_BYTES });
  }

  /** SYN, SYN-ACK, ACK at the FLOW_OPEN's time. */
  handshake(): void {
    const ts = this.lastTs;
    this.client.syn(ts, { mss: this.clientMss, windowScale: WINDOW_SCALE, sackPermitted: true }, false);
    this.server.syn(ts, { mss: this.serverMss, windowScale: WINDOW_SCALE, sackPermitted: true }, true);
    this.client.ack(ts);
  }

  data(dir: Direction, tsNs: bigint, offset: bigint, payload: Buffer): void {
    const ts = this.clamp(tsNs);
    const sender = dir === Direction.ClientToServer ? this.client : this.server;
    const receiver = sender.peer;
    let seq = 1 + Number(offset);
    let first = 0;
    // Never resend: a capture shows each byte once (the flow table already trims).
    if (seq < sender.sendNext) {
      first = Math.min(payload.length, sender.sendNext - seq);
      seq = sender.sendNext;
    }
    const size = sender.segmentPayload;
    const ackAfter = size * this.options.ackEverySegments;
    // Segments are ranges of the payload, not views of it (SegmentOutput).
    for (let at = first; at < payload.length; at += size) {
      const end = Math.min(at + size, payload.length);
      // Keep every segment inside the window the receiver last advertised.
      if (seq + end - at - sender.acked > receiver.window && receiver.owesAck()) receiver.ack(ts);
      sender.data(ts, seq, payload, at, end, end === payload.length);
      seq += end - at;
      if (sender.unacked >= ackAfter) receiver.ack(ts);
    }
  }

  /** Bytes the capture lacks: the sender's sequence jumps past them, nothing is sent. */
  hole(dir: Direction, offset: bigint, length: bigint): void {
    const sender = dir === Direction.ClientToServer ? this.client : this.server;
    const after = 1 + Number(offset + length);
    if (after > sender.sendNext) sender.sendNext = after;
  }

  /**
   * The end of the connection as the host saw it:
   * - FIN from client / server: that side's FIN, the other's FIN, the last ACK.
   * - RST from client / server: one RST from that side.
   * - Idle timeout: the gateway closed the idle connection in the server's
   *   name, gracefully, so the host sees a FIN from the server first.
   * - Gateway shutdown: the gateway's sockets were torn down, so the host
   *   sees a RST from the server.
   * - Undefined (the stitcher closed the flow, e.g. at the end of a --once
   *   run): nothing. The connection may still be open, and inventing a close
   *   would tell the NDR something that did not happen; the capture simply ends.
   *   A reason this version does not know is treated the same way.
   */
  close(reason: CloseReason | undefined, tsNs: bigint): void {
    const ts = this.clamp(tsNs);
    switch (reason) {
      case CloseReason.FinFromClient: return this.finClose(this.client, ts);
      case CloseReason.FinFromServer:
      case CloseReason.IdleTimeout: return this.finClose(this.server, ts);
      case CloseReason.RstFromClient: return this.client.rst(ts);
      case CloseReason.RstFromServer:
      case CloseReason.GatewayShutdown: return this.server.rst(ts);
      default: return;
    }
  }

  private finClose(first: TcpEndpoint, ts: bigint): void {
    first.fin(ts);
    first.peer.fin(ts);
    first.ack(ts);
  }

  private clamp(tsNs: bigint): bigint {
    if (tsNs > this.lastTs) this.lastTs = tsNs;
    return this.lastTs;
  }
}

function validMss(mss: number | undefined): number | undefined {
  return mss !== undefined && mss >= 64 ? mss : undefined;
}
