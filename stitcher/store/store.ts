/**
 * The one small interface every object store adapter implements
 * (local folder, S3, GCS, Azure Blob). Keys are '/'-separated and never
 * start with '/'; a store is opened on a root prefix and every key here is
 * relative to that root.
 */
import type { Readable } from 'node:stream';

export interface ListOptions {
  /** Only keys that start with this (relative to the store's root). */
  readonly prefix: string;
  /** Group keys by the next occurrence of this after the prefix (usually '/'). */
  readonly delimiter?: string;
  /** Only keys strictly after this one, lexicographically (UTF-8 byte order). */
  readonly startAfter?: string;
  /** @default 1000 */
  readonly pageSize?: number;
  /** The `nextPageToken` of the previous page. */
  readonly pageToken?: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified?: Date;
}

export interface ListPage {
  /** Sorted by key. */
  readonly objects: readonly ObjectInfo[];
  /** Common prefixes when a delimiter was given, each ending with it, sorted. */
  readonly prefixes: readonly string[];
  /** Present when there is another page. */
  readonly nextPageToken?: string;
}

export interface ObjectStore {
  /** What this store reads, for messages: `file:///data/tap`, `s3://bucket/prefix`. Never holds a secret. */
  readonly description: string;
  list(options: ListOptions): Promise<ListPage>;
  /** A stream of the object's bytes; rejects (or errors) with a message naming the key when absent. */
  read(key: string): Promise<Readable>;
  /** Writes a whole object (one PUT). */
  write(key: string, data: Buffer): Promise<void>;
  close?(): Promise<void>;
}

/** Every object under a prefix, following pages; no delimiter. */
export async function* listAll(store: ObjectStore, prefix: string, startAfter?: string): AsyncGenerator<ObjectInfo> {
  let pageToken: string | undefined;
  do {
    const page = await store.list({ prefix, startAfter, pageToken });
    yield* page.objects;
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
}

/** The common prefixes directly under a prefix, following pages. */
export async function listPrefixes(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const prefixes: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await store.list({ prefix, delimiter: '/', startAfter, pageToken });
    prefixes.push(...page.prefixes);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return prefixes;
}
