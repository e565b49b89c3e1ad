/**
 * Classic pcap with nanosecond timestamps (magic 0xa1b23c4d, version 2.4),
 * little-endian, Ethernet link type.
 */
import type { CaptureFile, CaptureFileOptions } from './capture-file.js';
import type { SinkCapabilities } from './sink.js';
import { BufferedCaptureFile, linkTypeEthernet } from './capture-file.js';

const nanosecondMagic = 0xa1b23c4d;
const fileHeaderLength = 24;
const recordHeaderLength = 16;

/** Opens `path` (truncated, or exclusive: see CaptureFileOptions) and writes the pcap file header. */
export function createPcapFile(path: string, options: CaptureFileOptions = {}): CaptureFile {
  return new PcapFile(path, options);
}

class PcapFile extends BufferedCaptureFile {
  readonly capabilities: SinkCapabilities = { frames: this };
  /** The last timestamp split into seconds and nanoseconds: packets come in runs that share one. */
  private lastTsNs = -1n;
  private seconds = 0;
  private nanoseconds = 0;

  constructor(path: string, options: CaptureFileOptions) {
    super(`pcap://${path}`, path, options);
    this.writeFileHeader();
  }

  recordLength(frameLength: number): number {
    return recordHeaderLength + Math.min(frameLength, this.snapLength);
  }

  /** The record header of a frame; returns where the frame's bytes go in the file's buffer. */
  protected beginRecord(tsNs: bigint, captured: number, length: number): number {
    const offset = this.file.reserve(recordHeaderLength + captured);
    const buffer = this.file.buffer;
    if (tsNs !== this.lastTsNs) this.splitTime(tsNs);
    // Byte stores, not writeUInt32LE: once per packet, its range checks cost more than the stores.
    put32(buffer, offset, this.seconds);
    put32(buffer, offset + 4, this.nanoseconds);
    put32(buffer, offset + 8, captured);
    put32(buffer, offset + 12, length);
    return offset + recordHeaderLength;
  }

  private splitTime(tsNs: bigint): void {
    const seconds = tsNs / 1_000_000_000n;
    this.lastTsNs = tsNs;
    this.seconds = Number(seconds);
    this.nanoseconds = Number(tsNs - seconds * 1_000_000_000n);
  }

  private writeFileHeader(): void {
    const offset = this.file.reserve(fileHeaderLength);
    const buffer = this.file.buffer;
    buffer.writeUInt32LE(nanosecondMagic, offset);
    buffer.writeUInt16LE(2, offset + 4);
    buffer.writeUInt16LE(4, offset + 6);
    buffer.writeInt32LE(0, offset + 8); // thiszone: timestamps are UTC
    buffer.writeUInt32LE(0, offset + 12); // sigfigs
    buffer.writeUInt32LE(this.snapLength, offset + 16);
    buffer.writeUInt32LE(linkTypeEthernet, offset + 20);
  }
}

/** A little-endian 32-bit store of a value already known to fit. */
function put32(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = value >>> 24;
}
