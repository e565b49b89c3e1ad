/** What the pcap and pcapng writers have in common, so that rotation can drive either. */
import type { Packet } from '../packet/packet.js';
import type { FrameSink } from './sink.js';

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
