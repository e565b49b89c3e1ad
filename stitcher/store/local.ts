/**
 * A local folder as an object store: `file:///abs/path/prefix`. Keys map to
 * files below the root; listing walks only the folders the prefix can reach,
 * so a prefix of `2026/11/25/` reads one day's folders, not the whole tree.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
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

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error('not a file');
    } catch {
      throw new Error(`object ${key} not found in ${this.description}`);
    }
    return createReadStream(path, { highWaterMark: 1 << 20 });
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
