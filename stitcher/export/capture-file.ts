/** What the pcap and pcapng writers have in common, so that rotation can drive either. */
import type { Packet } from '../packet/packet.js';
import { BufferedFile } from './buffered-file.js';
import type { BufferedFileOptions } from './buffered-file.js';
import type { FrameSink, SinkCapabilities } from './sink.js';

/** One open capture file (pcap or pcapng). */
export interface CaptureFile extends FrameSink {
  readonly path: string;
  /** Bytes this file holds once flushed, headers included. */
  readonly size: number;
  /** Bytes a frame of `frameLength` bytes adds to the file. */
  recordLength(frameLength: number): number;
  /** Resolves once the file is open; rejects with a one-line message naming it. */
  ready(): Promise<void>;
  /** pcapng only: a Decryption Secrets Block with NSS key log lines. */
  addSecrets?(nssKeyLogLines: string): void;
}

export interface CaptureFileOptions {
  /**
   * Longest frame kept; longer frames are cut (their original length is recorded).
   * @default 262144
   */
  readonly snapLength?: number;
  /** @default 1048576 (1 MiB) */
  readonly chunkBytes?: number;
  /** @default 4194304 (4 MiB) */
  readonly highWaterBytes?: number;
  /** @default 1000 */
  readonly flushIntervalMs?: number;
  /** Never truncate an existing file: take the next free name (see BufferedFileOptions.exclusive). @default false */
  readonly exclusive?: boolean;
}

export const defaultSnapLength = 262144;

/** LINKTYPE_ETHERNET. */
export const linkTypeEthernet = 1;

export function capturedLength(packet: Packet, snapLength: number): number {
  return Math.min(packet.header.length + packet.payload.length, snapLength);
}

/** Copies header then payload into `target` at `offset`, cut to `length` bytes. */
export function copyFrame(packet: Packet, target: Buffer, offset: number, length: number): void {
  const { header, payload } = packet;
  if (length <= header.length) {
    header.copy(target, offset, 0, length);
    return;
  }
  // TypedArray set: a plain memmove, without Buffer.copy's argument handling, twice per packet.
  target.set(header, offset);
  if (length === header.length + payload.length) target.set(payload, offset + header.length);
  else payload.copy(target, offset + header.length, 0, length - header.length);
}

/**
 * A capture file on a BufferedFile: the frame plumbing, backpressure and
 * lifecycle pcap and pcapng share. A format writes its file header in its
 * constructor and supplies `beginRecord`, the header of one frame's record;
 * `write` and `reserveFrame` call it directly, as they did in each writer.
 */
export abstract class BufferedCaptureFile implements CaptureFile {
  abstract readonly capabilities: SinkCapabilities;
  protected readonly file: BufferedFile;
  protected readonly snapLength: number;

  /** `fileOptions` are the BufferedFile's: a format may add its `mode`. */
  protected constructor(
    readonly description: string,
    path: string,
    fileOptions: CaptureFileOptions & BufferedFileOptions,
  ) {
    this.snapLength = fileOptions.snapLength ?? defaultSnapLength;
    this.file = new BufferedFile(path, fileOptions);
  }

  abstract recordLength(frameLength: number): number;

  /**
   * Reserves a record for a frame of `captured` bytes (originally `length`)
   * at `tsNs` and writes all of it but the frame; returns where the frame's
   * bytes go in the file's buffer.
   */
  protected abstract beginRecord(tsNs: bigint, captured: number, length: number): number;

  get path(): string {
    return this.file.path;
  }

  get size(): number {
    return this.file.size;
  }

  get frameBuffer(): Buffer {
    return this.file.buffer;
  }

  get writable(): boolean {
    return this.file.writable;
  }

  reserveFrame(tsNs: bigint, length: number): number {
    return length > this.snapLength ? -1 : this.beginRecord(tsNs, length, length);
  }

  write(packet: Packet): boolean {
    const length = packet.header.length + packet.payload.length;
    const captured = capturedLength(packet, this.snapLength);
    const at = this.beginRecord(packet.tsNs, captured, length);
    copyFrame(packet, this.file.buffer, at, captured);
    return this.file.writable;
  }

  ready(): Promise<void> {
    return this.file.ready();
  }

  drain(): Promise<void> {
    return this.file.drain();
  }

  flush(): Promise<void> {
    return this.file.flushed();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
