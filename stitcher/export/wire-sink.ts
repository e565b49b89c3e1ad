/**
 * What every wire output (VXLAN, GENEVE, PCAP-over-IP) adds to a PacketSink:
 * counters for metrics and the segment size the synthesiser must keep to.
 */
import type { PacketSink } from './sink.js';

export interface WireStats {
  /** Packets handed to the kernel (UDP datagrams, or records written to a TCP peer). */
  packets: number;
  /** Bytes handed to the kernel: UDP payloads (tunnel header + inner frame), or stream bytes. */
  bytes: number;
  /** Packets dropped on purpose: queue full, no peer connected, a client too slow. */
  dropped: number;
  /** Send errors reported by the kernel (ECONNREFUSED, ENOBUFS, EHOSTUNREACH, ...). */
  sendErrors: number;
  /** The same errors by code, e.g. `{ ECONNREFUSED: 3 }`. */
  readonly errorsByCode: Record<string, number>;
  /** pcap-over-ip: connections made (client) or accepted (listen). */
  connections: number;
}

/** What a wire output declares as its `capabilities.wire`. */
export interface WireCapability {
  readonly stats: WireStats;
  /**
   * The largest TCP payload per synthesised segment such that no packet this
   * sink sends exceeds its MTU (pass it as the synthesiser's `maxSegmentPayload`).
   */
  maxSegmentPayload(innerIpVersion: 4 | 6): number;
}

/** A wire output; it declares itself as `capabilities.wire`. */
export interface WireSink extends PacketSink, WireCapability {
  /** Sinks with sockets to set up do it here, before the first packet. */
  open?(): Promise<void>;
}

export function emptyWireStats(): WireStats {
  return { packets: 0, bytes: 0, dropped: 0, sendErrors: 0, errorsByCode: {}, connections: 0 };
}

/** Counts a send error by its code: metrics want the kind, not a message per packet. */
export function countSendError(stats: WireStats, error: Error): void {
  const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
  stats.sendErrors++;
  stats.errorsByCode[code] = (stats.errorsByCode[code] ?? 0) + 1;
}
