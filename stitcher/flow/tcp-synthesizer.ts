/**
 * Packet synthesis: reassembled flows in, Ethernet/IP/TCP packets out, as a
 * capture on the user's host would show them. Segments go to the output
 * synchronously; given a function, it gets Packets whose payloads are views of
 * the flow's bytes and whose headers are slices of a shared slab, so a consumer
 * that keeps a packet copies it.
 */
import type { Packet } from '../packet/packet.js';
import { PacketBuilder, type SegmentOutput, type TcpPath } from '../packet/tcp-frame.js';
import type { TcpFields } from '../packet/tcp.js';
import type { FlowConsumer, FlowEvent, FlowIdentity } from './events.js';
import { TcpConnection, type ConnectionResume, type ConnectionState } from './tcp-connection.js';

export interface SynthesisOptions {
  /**
   * Most TCP payload per segment, below the receiver's MSS when an
   * encapsulation (VXLAN, GENEVE) needs room in the MTU.
   * @default no cap (the MSS decides)
   */
  readonly maxSegmentPayload?: number;
  /** The receiver acknowledges after at most this many full segments, as delayed ACK does. @default 2 */
  readonly ackEverySegments?: number;
}

export interface SynthesisStats {
  /** Flows opened (handshakes sent). */
  flows: number;
  packets: number;
  /** Frame bytes: headers and payloads. */
  bytes: number;
  /** TCP payload bytes. */
  payloadBytes: number;
}

export class TcpSynthesizer implements FlowConsumer {
  readonly stats: SynthesisStats = { flows: 0, packets: 0, bytes: 0, payloadBytes: 0 };
  private readonly connections = new OpenConnections();
  /** Flows carried over from a checkpoint: their next openFlow resumes instead of a handshake. */
  private readonly resuming = new Map<string, ConnectionResume | 'closed'>();
  /** Flows carried over whose connection this synthesiser had already closed: their events are dropped. */
  private readonly finished = new Set<string>();
  private readonly options: { maxSegmentPayload: number; ackEverySegments: number };
  private readonly output: SegmentOutput;

  constructor(output: SegmentOutput | ((packet: Packet) => void), options: SynthesisOptions = {}) {
    this.output = typeof output === 'function' ? new PacketBuilder(output) : output;
    this.options = {
      maxSegmentPayload: options.maxSegmentPayload ?? Infinity,
      ackEverySegments: Math.max(1, options.ackEverySegments ?? 2),
    };
  }

  openFlow(flow: FlowIdentity): void {
    const key = connectionKey(flow);
    const connection = new TcpConnection(flow, this.options, this.counted);
    this.connections.set(flow.gateway, flow.key, connection);
    const resume = this.resuming.size === 0 ? undefined : this.resuming.get(key);
    if (resume !== undefined) {
      this.resuming.delete(key);
      if (resume === 'closed') {
        this.connections.delete(flow.gateway, flow.key);
        this.finished.add(key);
        return;
      }
      connection.resume(resume);
      return;
    }
    this.stats.flows++;
    connection.handshake();
  }

  /** The flow `key` of `gateway`, when it is opened next, goes on from a checkpoint ('closed': it was done here). */
  expectResume(gateway: string, key: string, resume: ConnectionResume | 'closed'): void {
    this.resuming.set(`${gateway}/${key}`, resume);
  }

  hasConnection(gateway: string, key: string): boolean {
    return this.connections.get(gateway, key) !== undefined;
  }

  /** The state of an open connection, for a checkpoint; undefined when this synthesiser has none for the flow. */
  connectionState(gateway: string, key: string): ConnectionState | undefined {
    return this.connections.get(gateway, key)?.state();
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const connection = this.connections.get(flow.gateway, flow.key);
    if (connection === undefined) {
      if (this.finished.has(connectionKey(flow))) {
        if (event.kind === 'close') this.finished.delete(connectionKey(flow));
        return;
      }
      throw new Error(`while synthesising packets: event '${event.kind}' for flow ${flow.key} of gateway ${flow.gateway}, which was never opened`);
    }
    if (event.kind === 'data') {
      connection.data(event.dir, event.tsNs, event.offset, event.payload);
    } else if (event.kind === 'hole') {
      connection.hole(event.dir, event.offset, event.length);
    } else {
      connection.close(event.reason, event.tsNs);
      this.connections.delete(flow.gateway, flow.key);
    }
  }

  private readonly counted: SegmentOutput = {
    segment: (tsNs: bigint, path: TcpPath, tcp: TcpFields, payload: Buffer, start: number, end: number): void => {
      const stats = this.stats;
      stats.packets++;
      stats.bytes += path.headerLength(tcp) + (end - start);
      stats.payloadBytes += end - start;
      this.output.segment(tsNs, path, tcp, payload, start, end);
    },
  };
}

/** Open connections by gateway, then flow key: no joined key string kept per flow or made per event. */
class OpenConnections {
  private readonly byGateway = new Map<string, Map<string, TcpConnection>>();

  get(gateway: string, key: string): TcpConnection | undefined {
    return this.byGateway.get(gateway)?.get(key);
  }

  set(gateway: string, key: string, connection: TcpConnection): void {
    let connections = this.byGateway.get(gateway);
    if (connections === undefined) this.byGateway.set(gateway, (connections = new Map()));
    connections.set(key, connection);
  }

  delete(gateway: string, key: string): void {
    const connections = this.byGateway.get(gateway);
    if (connections?.delete(key) === true && connections.size === 0) this.byGateway.delete(gateway);
  }
}

function connectionKey(flow: FlowIdentity): string {
  return `${flow.gateway}/${flow.key}`;
}
