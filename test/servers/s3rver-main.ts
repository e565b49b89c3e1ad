/**
 * Runs s3rver (in its own child process) with one gap closed: its listing
 * with a delimiter stops walking below a common prefix, so it only finds
 * prefixes that hold objects directly, where S3 finds every key's prefix.
 * The listing is redone here over s3rver's own flat listing.
 *
 * Usage: node s3rver-main.js <directory> <port> <bucket>...
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from '../support/paths.js';

interface StoredObjectLike {
  readonly key: string;
}

interface ListOptions {
  readonly delimiter?: string;
  readonly startAfter?: string;
  readonly prefix?: string;
  readonly maxKeys?: number;
}

interface ListResult {
  readonly objects: StoredObjectLike[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
}

interface FilesystemStorePrototype {
  listObjects(this: unknown, bucket: string, options: ListOptions): Promise<ListResult>;
}

interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<unknown>;
}

const require = createRequire(join(projectRoot, 'package.json'));
const store = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStorePrototype };
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

const flatList = store.prototype.listObjects;

/**
 * Keys and common prefixes in one order, `maxKeys` entries per page as S3
 * counts them. s3rver's continuation token is the page's last object, so a
 * truncated page ends with an object (trailing prefixes move to the next
 * page); a page of prefixes only is not truncated.
 */
store.prototype.listObjects = async function listObjects(this: unknown, bucket: string, options: ListOptions): Promise<ListResult> {
  const { delimiter, prefix = '', maxKeys = 1000 } = options;
  if (delimiter === undefined || delimiter === '') return flatList.call(this, bucket, options);
  const all = await flatList.call(this, bucket, { ...options, delimiter: '', maxKeys: Number.MAX_SAFE_INTEGER });
  type Entry = { readonly object?: StoredObjectLike; readonly prefix?: string };
  const entries: Entry[] = [];
  const sorted = [...all.objects].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  for (const object of sorted) {
    const at = object.key.indexOf(delimiter, prefix.length);
    if (at < 0) entries.push({ object });
    else {
      const common = object.key.slice(0, at + delimiter.length);
      if (entries.at(-1)?.prefix !== common) entries.push({ prefix: common });
    }
  }
  let page = entries;
  let isTruncated = false;
  if (entries.length > maxKeys) {
    const lastObject = entries.slice(0, maxKeys).findLastIndex((entry) => entry.object !== undefined);
    if (lastObject >= 0) {
      page = entries.slice(0, lastObject + 1);
      isTruncated = true;
    }
  }
  return {
    objects: page.flatMap((entry) => (entry.object !== undefined ? [entry.object] : [])),
    commonPrefixes: page.flatMap((entry) => (entry.prefix !== undefined ? [entry.prefix] : [])),
    isTruncated,
  };
};

const [directory, port, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  directory, port: Number(port), address: '127.0.0.1', silent: true, vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
await server.run();
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
