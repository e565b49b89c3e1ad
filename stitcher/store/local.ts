/**
 * A local folder as an object store: `file:///abs/path/prefix`. Keys map to
 * files below the root; listing walks only the folders the prefix can reach,
 * so a prefix of `2026/11/25/` reads one day's folders, not the whole tree.
 */
import { mkdir, open, readdir, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore } from './store.js';

const DEFAULT_PAGE_SIZE = 1000;

export class LocalFolderStore implements ObjectStore {
  readonly description: string;

  /** @param root an absolute folder; it must exist to list or read. */
  constructor(private readonly root: string) {
    this.description = `file://${root}`;
  }

  async list(options: ListOptions): Promise<ListPage> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const after = maxKey(options.startAfter, options.pageToken);
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let more = false;
    for await (const entry of this.walk(options.prefix, options.delimiter)) {
      if (after !== undefined && entry.key <= after) continue;
      if (objects.length + prefixes.length === pageSize) {
        more = true;
        break;
      }
      if (entry.isPrefix) prefixes.push(entry.key);
      else objects.push({ key: entry.key, size: entry.size, lastModified: entry.mtime });
    }
    const last = lastKey(objects, prefixes);
    return { objects, prefixes, ...(more && last !== undefined ? { nextPageToken: last } : {}) };
  }

  /** A stream of the file; it also offers `readInto` (see LocalObjectStream). */
  async read(key: string): Promise<LocalObjectStream> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error('not a file');
      handle = await open(path, 'r');
    } catch {
      throw new Error(`object ${key} not found in ${this.description}`);
    }
    return new LocalObjectStream(handle, key);
  }

  async write(key: string, data: Buffer): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Whole objects only: readers must never see half of one.
    const temporary = `${path}.partial-${process.pid}`;
    await writeFile(temporary, data);
    await rename(temporary, path);
  }

  /** Keys (and common prefixes) under `prefix` in lexicographic order. */
  private async *walk(prefix: string, delimiter: string | undefined): AsyncGenerator<WalkEntry> {
    if (delimiter !== undefined && delimiter !== '/') {
      throw new Error(`${this.description}: only '/' is supported as a delimiter, not '${delimiter}'`);
    }
    const slash = prefix.lastIndexOf('/');
    const folderKey = prefix.slice(0, slash + 1);
    yield* this.walkFolder(folderKey, prefix, delimiter !== undefined);
  }

  private async *walkFolder(folderKey: string, prefix: string, grouped: boolean): AsyncGenerator<WalkEntry> {
    let names: string[];
    try {
      names = await readdir(this.pathOf(folderKey));
    } catch {
      return; // an absent folder holds no keys, as an empty prefix in a bucket
    }
    const entries = await Promise.all(names.filter((n) => !n.includes('.partial-')).map(async (name) => {
      const info = await stat(join(this.pathOf(folderKey), name)).catch(() => undefined);
      return { name, info };
    }));
    // Sort by key as a bucket does: a folder sorts as its name followed by '/'.
    const keyed = entries
      .filter((e) => e.info !== undefined)
      .map((e) => ({ ...e, key: folderKey + e.name + (e.info!.isDirectory() ? '/' : '') }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const entry of keyed) {
      const info = entry.info!;
      if (info.isDirectory()) {
        if (!entry.key.startsWith(prefix) && !prefix.startsWith(entry.key)) continue;
        if (grouped && entry.key.startsWith(prefix)) yield { key: entry.key, isPrefix: true, size: 0, mtime: info.mtime };
        else yield* this.walkFolder(entry.key, prefix, grouped);
      } else if (info.isFile() && entry.key.startsWith(prefix)) {
        yield { key: entry.key, isPrefix: false, size: info.size, mtime: info.mtime };
      }
    }
  }

  private pathOf(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`object key ${key} leaves ${this.description}`);
    return join(this.root, ...key.split('/')).split('/').join(sep);
  }
}

interface WalkEntry {
  readonly key: string;
  readonly isPrefix: boolean;
  readonly size: number;
  readonly mtime: Date;
}

function maxKey(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function lastKey(objects: readonly ObjectInfo[], prefixes: readonly string[]): string | undefined {
  const lastObject = objects.at(-1)?.key;
  const lastPrefix = prefixes.at(-1);
  return maxKey(lastObject, lastPrefix);
}

/** Bytes per chunk when the stream is consumed as a stream. */
const STREAM_CHUNK_BYTES = 1 << 20;

/**
 * A file as a Readable, which can also be read straight into the caller's
 * buffer (`readInto`), so that a reader that reuses its memory makes no
 * allocation per read. Use one way or the other for one stream, not both.
 */
export class LocalObjectStream extends Readable {
  private position = 0;

  constructor(private readonly handle: FileHandle, private readonly key: string) {
    super({ highWaterMark: STREAM_CHUNK_BYTES });
  }

  /** Reads the next bytes of the file into `target`; resolves 0 at its end. */
  async readInto(target: Buffer, offset: number, length: number): Promise<number> {
    try {
      const { bytesRead } = await this.handle.read(target, offset, length, this.position);
      this.position += bytesRead;
      return bytesRead;
    } catch (error) {
      throw new Error(`while reading object ${this.key} at byte ${this.position}: ${(error as Error).message}`);
    }
  }

  override _read(size: number): void {
    const chunk = Buffer.allocUnsafe(Math.max(size, STREAM_CHUNK_BYTES));
    this.readInto(chunk, 0, chunk.length).then(
      (got) => { this.push(got === 0 ? null : chunk.subarray(0, got)); },
      (error: unknown) => { this.destroy(error as Error); },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(() => callback(error), (closeError: unknown) => callback(error ?? (closeError as Error)));
  }
}
