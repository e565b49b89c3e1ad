/**
 * Where packets go: a pcap file, a pcapng file, a VXLAN peer, ...
 * `write` returns false when the sink wants the producer to wait for `drain()`
 * (backpressure, as with Node streams): a slow disk or sensor slows the reader,
 * it never grows memory without bound.
 */
import type { Packet } from '../packet/packet.js';
import type { WireCapability } from './wire-sink.js';

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
  /** What this output can do beyond taking packets, as it declares it; absent: nothing more. */
  readonly capabilities?: SinkCapabilities;
}

/**
 * Each capability is the object that provides it (usually the sink itself), so
 * the compiler checks that a sink has what it declares and callers never guess
 * from the methods an object happens to have.
 */
export interface SinkCapabilities {
  /** Frames written straight into its memory (capture files). */
  readonly frames?: FrameWriter;
  /** It copies every packet before `write` returns: the reader may reuse its memory once a block is done. */
  readonly copiesOnWrite?: true;
  /** It carries TLS secrets in-band (pcapng: Decryption Secrets Blocks). */
  readonly secrets?: SecretsCarrier;
  /** It sends over the network: it counts what it could not send and needs segments that fit its MTU. */
  readonly wire?: WireCapability;
}

/** An output that carries TLS secrets in-band (pcapng: Decryption Secrets Blocks). */
export interface SecretsCarrier {
  addSecrets(nssKeyLogLines: string): void;
}

/**
 * A sink that lets the producer write a frame straight into its memory
 * (capture files): no header buffer and no Packet per frame, one copy of the
 * payload. `write` still takes Packets.
 */
export interface FrameSink extends PacketSink, FrameWriter {}

export interface FrameWriter {
  /**
   * Makes room for a frame of `length` bytes captured at `tsNs` and returns
   * where its first byte goes in `frameBuffer` (read `frameBuffer` after this
   * call); the caller writes all `length` bytes before any other call. -1 when
   * the frame cannot go this way (it is longer than the snap length): `write` it.
   */
  reserveFrame(tsNs: bigint, length: number): number;
  readonly frameBuffer: Buffer;
  /** False when the producer should wait for `drain()` (what `write` would have returned). */
  readonly writable: boolean;
}
