/**
 * Where packets go: a pcap file, a pcapng file, a VXLAN peer, ...
 * `write` returns false when the sink wants the producer to wait for `drain()`
 * (backpressure, as with Node streams): a slow disk or sensor slows the reader,
 * it never grows memory without bound.
 */
import type { Packet } from '../packet/packet.js';

export interface PacketSink {
  /** For messages and metrics: `pcapng:///tmp/out.pcapng`. */
  readonly description: string;
  write(packet: Packet): boolean;
  /** Resolves when the sink can take more after `write` returned false. */
  drain(): Promise<void>;
  /**
   * Hands on everything written so far (to the file system, the kernel or the
   * peer's socket) and resolves when it is done: a checkpoint may then claim it.
   */
  flush(): Promise<void>;
  /** Writes out what is buffered and closes every file or socket. */
  close(): Promise<void>;
}
