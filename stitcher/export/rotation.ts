/**
 * A capture output that spreads packets over files: a new file starts when the
 * current one would grow past a size limit, or when a packet's capture time is
 * `maxSeconds` or more after the first packet of the current file.
 *
 * Time limits go by packet time, not the wall clock: a file then covers a fixed
 * span of capture time whether the stitcher runs live or replays an old bucket, and
 * the result does not depend on how fast the disk is.
 */
import type { Packet } from '../packet/packet.js';
import type { CaptureFile } from './capture-file.js';
import type { FrameSink, SinkCapabilities } from './sink.js';

export interface FileOutputStats {
  readonly packets: number;
  /** Frame bytes of the packets written (as on the wire, before any snap length cut). */
  readonly bytes: number;
  /** Bytes in the files, headers included. */
  readonly fileBytes: number;
  /** Files started so far. */
  readonly files: number;
}

/** A pcap or pcapng output: one file, or a folder of rotated files. */
export interface FileOutput extends FrameSink {
  readonly stats: FileOutputStats;
  /** Every file started so far, oldest first (a name taken instead of an existing one shows once the file is open). */
  readonly paths: readonly string[];
  /** pcapng only: TLS key log lines for the packets that follow. */
  addSecrets?(nssKeyLogLines: string): void;
  /** Completes the current file now; the next packet starts a new one. */
  endFile(): Promise<void>;
}

export interface FilePlan {
  /** The path of the next file, from the capture time of its first packet and its number (from 1). */
  pathFor(firstNs: bigint, index: number): string;
  /** A file never grows past this (unless one packet alone does); 0: no limit. */
  readonly maxBytes: number;
  /** A file covers less than this many seconds of capture time; 0: no limit. */
  readonly maxSeconds: number;
}

export interface CaptureOutputOptions {
  readonly description: string;
  readonly plan: FilePlan;
  readonly createFile: (path: string) => CaptureFile;
  /** Whether files take key log lines (pcapng). */
  readonly secrets: boolean;
  /**
   * The most recent key log bytes repeated at the start of every new file, so that
   * each file decrypts on its own (flows span files). An output that never rotates
   * keeps none once its file is open.
   * @default 1048576 (1 MiB)
   */
  readonly secretsCarryBytes?: number;
  /** Called with each file once it is complete and closed (e.g. to upload it); close() waits for it. */
  readonly onFileClosed?: (path: string) => Promise<void>;
}

/** `20261125T151500Z` for a time in nanoseconds since the epoch. */
export function fileTimestamp(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export class CaptureOutput implements FileOutput {
  readonly description: string;
  /** Every packet is copied into the file's buffer at once; pcapng takes secrets. */
  readonly capabilities: SinkCapabilities;
  private readonly files: CaptureFile[] = [];
  addSecrets?: (nssKeyLogLines: string) => void;
  private readonly plan: FilePlan;
  private readonly createFile: (path: string) => CaptureFile;
  private readonly onFileClosed: ((path: string) => Promise<void>) | undefined;
  private readonly secretsCarryBytes: number;
  private readonly maxNs: bigint;
  private readonly rotatesByTime: boolean;
  private current: CaptureFile | undefined;
  /** Capture time at which the current file is done (when rotating by time): one comparison per packet, no BigInt arithmetic. */
  private currentEndNs = 0n;
  private packetsAtFileStart = 0;
  private closed = false;
  private closedFileBytes = 0;
  private packets = 0;
  private bytes = 0;
  private readonly closing = new Set<Promise<void>>();
  private failure: Error | undefined;
  private carriedSecrets: string[] = [];
  private carriedSecretBytes = 0;

  constructor(options: CaptureOutputOptions) {
    this.description = options.description;
    this.plan = options.plan;
    this.createFile = options.createFile;
    this.onFileClosed = options.onFileClosed;
    const rotates = options.plan.maxBytes > 0 || options.plan.maxSeconds > 0;
    // Only a file after the first needs the keys again.
    this.secretsCarryBytes = rotates ? (options.secretsCarryBytes ?? 1 << 20) : 0;
    this.maxNs = BigInt(options.plan.maxSeconds) * 1_000_000_000n;
    this.rotatesByTime = this.maxNs > 0n;
    if (options.secrets) this.addSecrets = (lines) => this.keepSecrets(lines);
    const secrets = this.addSecrets === undefined ? {} : { secrets: { addSecrets: this.addSecrets } };
    this.capabilities = { frames: this, copiesOnWrite: true, ...secrets };
  }

  get stats(): FileOutputStats {
    return {
      packets: this.packets,
      bytes: this.bytes,
      fileBytes: this.closedFileBytes + (this.current?.size ?? 0),
      files: this.files.length,
    };
  }

  get paths(): readonly string[] {
    return this.files.map((file) => file.path);
  }

  /** Starts the first file now (named by `nowNs`) and waits until it is open. */
  async openFirst(nowNs: bigint): Promise<void> {
    this.startFile(nowNs);
    await this.current?.ready();
  }

  write(packet: Packet): boolean {
    const length = packet.header.length + packet.payload.length;
    const writable = this.fileFor(packet.tsNs, length).write(packet);
    this.count(length);
    return writable && this.closing.size === 0 && this.failure === undefined;
  }

  reserveFrame(tsNs: bigint, length: number): number {
    const at = this.fileFor(tsNs, length).reserveFrame(tsNs, length);
    if (at >= 0) this.count(length);
    return at;
  }

  get frameBuffer(): Buffer {
    return (this.current as CaptureFile).frameBuffer;
  }

  get writable(): boolean {
    return (this.current?.writable ?? true) && this.closing.size === 0 && this.failure === undefined;
  }

  /** The file a frame at `tsNs` goes to: the current one, or a new one when it is full. */
  private fileFor(tsNs: bigint, frameLength: number): CaptureFile {
    if (this.closed) throw new Error(`cannot write to ${this.description}: it is closed`);
    if (this.current === undefined || this.isFull(this.current, tsNs, frameLength)) this.startFile(tsNs);
    return this.current as CaptureFile;
  }

  private count(frameLength: number): void {
    this.packets += 1;
    this.bytes += frameLength;
  }

  async drain(): Promise<void> {
    await this.closingDone();
    await this.current?.drain();
  }

  async flush(): Promise<void> {
    await this.current?.flush();
    await this.closingDone();
  }

  /** Completes the current file now (the next packet starts a new one) and waits until it is closed and handed on. */
  async endFile(): Promise<void> {
    if (this.current) this.closeFile(this.current);
    this.current = undefined;
    await this.closingDone();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.current) this.closeFile(this.current);
    this.current = undefined;
    await this.closingDone();
  }

  private async closingDone(): Promise<void> {
    await Promise.all(this.closing);
    if (this.failure) throw this.failure;
  }

  private isFull(file: CaptureFile, tsNs: bigint, frameLength: number): boolean {
    if (this.rotatesByTime && tsNs >= this.currentEndNs) return true;
    // A file that holds no packet yet takes one whatever its size.
    const hasPackets = this.packets > this.packetsAtFileStart;
    const maxBytes = this.plan.maxBytes;
    return maxBytes > 0 && hasPackets && file.size + file.recordLength(frameLength) > maxBytes;
  }

  private startFile(firstNs: bigint): void {
    if (this.current) this.closeFile(this.current);
    const path = this.plan.pathFor(firstNs, this.files.length + 1);
    const file = this.createFile(path);
    this.current = file;
    this.currentEndNs = firstNs + this.maxNs;
    this.packetsAtFileStart = this.packets;
    this.files.push(file);
    if (this.carriedSecrets.length > 0) file.addSecrets?.(this.carriedSecrets.join(''));
    this.trimCarriedSecrets();
  }

  private closeFile(file: CaptureFile): void {
    this.closedFileBytes += file.size;
    const onClosed = this.onFileClosed;
    const done = onClosed === undefined ? file.close() : file.close().then(() => onClosed(file.path));
    const closed: Promise<void> = done.then(
      () => { this.closing.delete(closed); },
      (error: unknown) => {
        this.closing.delete(closed);
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    this.closing.add(closed);
  }

  /**
   * Keys that arrive before the first file wait for it, all of them (they unlock its
   * first flows); after that only the most recent `secretsCarryBytes` are kept.
   */
  private keepSecrets(lines: string): void {
    if (lines.length === 0) return;
    const text = lines.endsWith('\n') ? lines : `${lines}\n`;
    this.current?.addSecrets?.(text);
    this.carriedSecrets.push(text);
    this.carriedSecretBytes += text.length;
    if (this.current !== undefined) this.trimCarriedSecrets();
  }

  private trimCarriedSecrets(): void {
    // A rotating output keeps the newest batch whatever its size.
    const keep = this.secretsCarryBytes > 0 ? 1 : 0;
    while (this.carriedSecrets.length > keep && this.carriedSecretBytes > this.secretsCarryBytes) {
      this.carriedSecretBytes -= (this.carriedSecrets.shift() as string).length;
    }
  }
}
