/**
 * An append-only file fed through large in-memory chunks and written with async fs
 * writes, so that the data path makes one syscall per chunk, not one per packet.
 * Memory is bounded: `writable` turns false once `highWaterBytes` wait for the disk.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { allocateSummable } from '../packet/wasm-sum.js';

export interface BufferedFileOptions {
  /**
   * Size of one in-memory chunk; a chunk goes to the disk in one write when full.
   * @default 1048576 (1 MiB)
   */
  readonly chunkBytes?: number;
  /**
   * Bytes handed to the disk but not yet written above which `writable` is false.
   * @default 4194304 (4 MiB)
   */
  readonly highWaterBytes?: number;
  /**
   * A partly filled chunk goes to the disk at the latest this long after its first
   * byte, so that a quiet capture still shows up in the file. 0 turns this off.
   * @default 1000
   */
  readonly flushIntervalMs?: number;
  /**
   * Permission bits of the file, also set on a file that existed before (a file
   * that holds secrets must not keep a wider mode it had).
   * @default 0o666 less the umask, for a new file
   */
  readonly mode?: number;
  /**
   * Never open an existing file: when `path` exists, the next free of
   * `name.1.ext`, `name.2.ext`, ... is created instead (see `path`), so a
   * restarted writer never truncates what an earlier one wrote.
   * @default false (an existing file is truncated)
   */
  readonly exclusive?: boolean;
}

/** Names tried after `path` before an exclusive open gives up. */
const EXCLUSIVE_ATTEMPTS = 1000;

/** "ENOSPC: no space left on device, write" -> "ENOSPC: no space left on device". */
export function describeIoError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, \w+( '.*')?$/, '');
}

/** What one block may hand to a file past its high-water mark (see maxSpareChunks). */
const BURST_BYTES = 16 << 20;

export class BufferedFile {
  /** Bytes appended so far (what the file will hold once flushed). */
  size = 0;
  /** The file written: the path asked for, or (exclusive) the free name taken instead once `ready`. */
  path: string;
  private readonly chunkBytes: number;
  private readonly highWaterBytes: number;
  private readonly flushIntervalMs: number;
  private handle: FileHandle | undefined;
  private readonly opened: Promise<void>;
  /** The chain of writes, in file order; it never rejects (failures land in `failure`). */
  private tail: Promise<void>;
  private chunk: Buffer;
  private fill = 0;
  private queuedBytes = 0;
  /** Written chunks kept for reuse: fresh memory costs page faults, a reused chunk is warm. */
  private readonly spareChunks: Buffer[] = [];
  private readonly maxSpareChunks: number;
  private failure: Error | undefined;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  /** Starts opening (truncating, or exclusive) `path`; an error shows up in `ready`, `drain` and `close`. */
  constructor(path: string, options: BufferedFileOptions = {}) {
    this.path = path;
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.highWaterBytes = options.highWaterBytes ?? 4 << 20;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    // As many as can wait for the disk at once, so that steady writing allocates nothing: the
    // high-water mark, plus what one block can release past it (a flow at its 8 MiB hold cap, in
    // frames) before the producer looks at `writable`. Each fresh chunk counts as external memory,
    // and V8 answers some tens of MB of it with a full collection: fewer spares cost a mark-compact
    // every 50 ms of a bulk run (a fifth of its CPU).
    this.maxSpareChunks = Math.ceil((this.highWaterBytes + BURST_BYTES) / this.chunkBytes) + 1;
    this.chunk = this.newChunk();
    this.opened = this.openFile(path, options).then(
      (handle) => { this.handle = handle; },
      (error: unknown) => this.fail(`cannot open ${this.path} for writing: ${describeIoError(error)}`),
    );
    this.tail = this.opened;
  }

  private async openFile(path: string, options: BufferedFileOptions): Promise<FileHandle> {
    if (options.exclusive !== true) {
      const handle = await open(path, 'w', options.mode);
      if (options.mode !== undefined) await handle.chmod(options.mode);
      return handle;
    }
    const extension = extname(path);
    const stem = path.slice(0, path.length - extension.length);
    for (let attempt = 0; attempt <= EXCLUSIVE_ATTEMPTS; attempt++) {
      this.path = attempt === 0 ? path : `${stem}.${attempt}${extension}`;
      try {
        return await open(this.path, 'wx', options.mode);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`${path} and ${EXCLUSIVE_ATTEMPTS} names after it exist already`);
  }

  /** Resolves once the file is open; rejects with a one-line message naming the file. */
  async ready(): Promise<void> {
    await this.opened;
    if (this.failure) throw this.failure;
  }

  /** False while too much waits for the disk, or after a write failed. */
  get writable(): boolean {
    return this.failure === undefined && this.queuedBytes < this.highWaterBytes;
  }

  /**
   * Makes room for `length` bytes and returns where they go in `buffer` (read
   * `buffer` after this call: a full chunk is swapped for a fresh one).
   */
  reserve(length: number): number {
    if (this.fill + length > this.chunk.length) {
      this.flush();
      if (length > this.chunk.length) this.chunk = Buffer.allocUnsafe(length);
    }
    if (this.timer === undefined && this.flushIntervalMs > 0) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.flushIntervalMs);
      this.timer.unref();
    }
    const offset = this.fill;
    this.fill += length;
    this.size += length;
    return offset;
  }

  /** The chunk that `reserve` made room in. */
  get buffer(): Buffer {
    return this.chunk;
  }

  /** A chunk that the checksum of a frame written into it reads in place (TcpPath.writeFrame). */
  private newChunk(): Buffer {
    return allocateSummable(this.chunkBytes).subarray(0, this.chunkBytes);
  }

  /** Hands the current chunk to the disk (without waiting). */
  flush(): void {
    if (this.fill === 0) return;
    const chunk = this.chunk;
    const length = this.fill;
    this.chunk = this.spareChunks.pop() ?? this.newChunk();
    this.fill = 0;
    this.queuedBytes += length;
    this.tail = this.tail.then(async () => {
      await this.writeAll(chunk, length);
      // After a failure nothing is counted any more (`fail` zeroed the count).
      if (this.failure) return;
      this.queuedBytes -= length;
      if (chunk.length === this.chunkBytes && this.spareChunks.length < this.maxSpareChunks) this.spareChunks.push(chunk);
      this.wakeWaiters();
    });
  }

  /** Hands every byte appended so far to the file system and waits for it; rejects once a write has failed. */
  async flushed(): Promise<void> {
    this.flush();
    await this.tail;
    if (this.failure) throw this.failure;
  }

  /** Resolves when `writable` is true again; rejects once a write has failed. */
  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queuedBytes < this.highWaterBytes) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Writes out what is buffered and closes the file; rejects naming the file on failure. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    await this.tail;
    if (this.handle) {
      try {
        await this.handle.close();
      } catch (error) {
        this.fail(`cannot close ${this.path}: ${describeIoError(error)}`);
      }
    }
    if (this.failure) throw this.failure;
  }

  private async writeAll(chunk: Buffer, length: number): Promise<void> {
    if (this.failure || !this.handle) return;
    let offset = 0;
    try {
      while (offset < length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, length - offset, null);
        offset += bytesWritten;
      }
    } catch (error) {
      this.fail(`cannot write ${this.path} at byte ${this.size - this.fill - this.queuedBytes + offset}: ${describeIoError(error)}`);
    }
  }

  private fail(message: string): void {
    this.failure ??= new Error(message);
    this.queuedBytes = 0;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (!this.failure && this.queuedBytes >= this.highWaterBytes) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
  }
}
