/**
 * pcapng (draft-ietf-opsawg-pcapng), little-endian: one Section Header Block, one
 * Ethernet Interface Description Block with nanosecond resolution, Enhanced Packet
 * Blocks, and Decryption Secrets Blocks holding TLS key log lines placed before
 * the packets they unlock.
 */
import type { CaptureFile, CaptureFileOptions } from './capture-file.js';
import type { SinkCapabilities } from './sink.js';
import { BufferedCaptureFile, linkTypeEthernet } from './capture-file.js';

const sectionHeaderType = 0x0a0d0d0a;
const interfaceDescriptionType = 0x00000001;
const enhancedPacketType = 0x00000006;
const decryptionSecretsType = 0x0000000a;
const byteOrderMagic = 0x1a2b3c4d;
const tlsKeyLogSecrets = 0x544c534b;
const optionEnd = 0;
const optionShbUserApplication = 4;
const optionIfName = 2;
const optionIfTsResolution = 9;
/** 10^-9 s: timestamps are nanoseconds. */
const nanosecondResolution = 9;
/** Type, total length ... total length. */
const blockFraming = 12;
/** Interface id, timestamp high and low, captured and original length. */
const enhancedPacketFields = 20;

const padded = (length: number): number => (length + 3) & ~3;

/** Files that may hold key material are readable and writable by their owner only. */
export const SECRETS_MODE = 0o600;

/** Opens `path` (truncated, or exclusive: see CaptureFileOptions) with mode 0600 and writes the section header and the one interface. */
export function createPcapngFile(path: string, options: CaptureFileOptions = {}): CaptureFile {
  return new PcapngFile(path, options);
}

interface BlockOption {
  readonly code: number;
  readonly value: Buffer;
}

function optionsLength(options: readonly BlockOption[]): number {
  let length = 4; // opt_endofopt
  for (const option of options) length += 4 + padded(option.value.length);
  return length;
}

class PcapngFile extends BufferedCaptureFile {
  readonly capabilities: SinkCapabilities = { frames: this, secrets: this };
  /** The last timestamp split into its two 32-bit halves: packets come in runs that share one. */
  private lastTsNs = -1n;
  private tsHigh = 0;
  private tsLow = 0;

  constructor(path: string, options: CaptureFileOptions) {
    // Decryption Secrets Blocks hold TLS keys: readable by the owner only.
    super(`pcapng://${path}`, path, { ...options, mode: SECRETS_MODE });
    this.writeSectionHeader();
    this.writeInterfaceDescription();
  }

  recordLength(frameLength: number): number {
    return blockFraming + enhancedPacketFields + padded(Math.min(frameLength, this.snapLength));
  }

  /** An Enhanced Packet Block but for its packet data; returns where the data goes in the file's buffer. */
  protected beginRecord(tsNs: bigint, captured: number, length: number): number {
    const total = blockFraming + enhancedPacketFields + padded(captured);
    const offset = this.file.reserve(total);
    const buffer = this.file.buffer;
    buffer.writeUInt32LE(enhancedPacketType, offset);
    buffer.writeUInt32LE(total, offset + 4);
    buffer.writeUInt32LE(0, offset + 8); // interface 0
    // The 64-bit timestamp in units of if_tsresol, upper 32 bits first.
    if (tsNs !== this.lastTsNs) {
      this.lastTsNs = tsNs;
      this.tsHigh = Number(tsNs >> 32n);
      this.tsLow = Number(tsNs & 0xffffffffn);
    }
    buffer.writeUInt32LE(this.tsHigh, offset + 12);
    buffer.writeUInt32LE(this.tsLow, offset + 16);
    buffer.writeUInt32LE(captured, offset + 20);
    buffer.writeUInt32LE(length, offset + 24);
    buffer.fill(0, offset + 28 + captured, offset + total - 4);
    buffer.writeUInt32LE(total, offset + total - 4);
    return offset + 28;
  }

  /** A Decryption Secrets Block (TLS key log) that applies to every packet after it. */
  addSecrets(nssKeyLogLines: string): void {
    const secrets = Buffer.from(nssKeyLogLines, 'utf8');
    if (secrets.length === 0) return;
    const total = blockFraming + 8 + padded(secrets.length);
    const offset = this.file.reserve(total);
    const buffer = this.file.buffer;
    buffer.writeUInt32LE(decryptionSecretsType, offset);
    buffer.writeUInt32LE(total, offset + 4);
    buffer.writeUInt32LE(tlsKeyLogSecrets, offset + 8);
    buffer.writeUInt32LE(secrets.length, offset + 12);
    secrets.copy(buffer, offset + 16);
    buffer.fill(0, offset + 16 + secrets.length, offset + total - 4);
    buffer.writeUInt32LE(total, offset + total - 4);
  }

  private writeSectionHeader(): void {
    const options = [{ code: optionShbUserApplication, value: Buffer.from('cloudtap') }];
    const offset = this.beginBlock(sectionHeaderType, 16, options);
    const buffer = this.file.buffer;
    buffer.writeUInt32LE(byteOrderMagic, offset);
    buffer.writeUInt16LE(1, offset + 4); // version 1.0
    buffer.writeUInt16LE(0, offset + 6);
    buffer.writeBigInt64LE(-1n, offset + 8); // section length not known in advance
  }

  private writeInterfaceDescription(): void {
    const options = [
      { code: optionIfName, value: Buffer.from('cloudtap') },
      { code: optionIfTsResolution, value: Buffer.from([nanosecondResolution]) },
    ];
    const offset = this.beginBlock(interfaceDescriptionType, 8, options);
    const buffer = this.file.buffer;
    buffer.writeUInt16LE(linkTypeEthernet, offset);
    buffer.writeUInt16LE(0, offset + 2);
    buffer.writeUInt32LE(this.snapLength, offset + 4);
  }

  /** Writes a block's framing and options; returns where its `fieldsLength` fixed fields go. */
  private beginBlock(type: number, fieldsLength: number, options: readonly BlockOption[]): number {
    const total = blockFraming + fieldsLength + optionsLength(options);
    const start = this.file.reserve(total);
    const buffer = this.file.buffer;
    buffer.fill(0, start, start + total);
    buffer.writeUInt32LE(type, start);
    buffer.writeUInt32LE(total, start + 4);
    let offset = start + 8 + fieldsLength;
    for (const option of options) {
      buffer.writeUInt16LE(option.code, offset);
      buffer.writeUInt16LE(option.value.length, offset + 2);
      option.value.copy(buffer, offset + 4);
      offset += 4 + padded(option.value.length);
    }
    buffer.writeUInt32LE(optionEnd, offset);
    buffer.writeUInt32LE(total, start + total - 4);
    return start + 8;
  }
}
