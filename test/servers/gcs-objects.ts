/**
 * The GCS test server's buckets: objects with generations and real hashes,
 * listed as the JSON API lists them (UTF-8 byte order, prefix, delimiter,
 * startOffset/endOffset, maxResults counting items and prefixes together).
 */
import { createHash } from 'node:crypto';
import { crc32cBase64 } from './crc32c.js';

export interface StoredObject {
  readonly name: string;
  readonly data: Buffer;
  readonly generation: string;
  readonly metageneration: string;
  readonly contentType: string;
  readonly md5Hash: string;
  readonly crc32c: string;
  readonly created: Date;
}

export interface ListQuery {
  readonly prefix: string;
  readonly delimiter?: string;
  readonly startOffset?: string;
  readonly endOffset?: string;
  readonly maxResults: number;
  /** The name (or prefix) last returned: the page starts after it. */
  readonly after?: string;
}

export interface ListResult {
  readonly items: StoredObject[];
  readonly prefixes: string[];
  /** The last entry returned, when there is more. */
  readonly last?: string;
}

/** Byte order of the UTF-8 encodings, as GCS sorts names. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export class GcsBuckets {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private nextGeneration = BigInt(Date.now()) * 1000n;

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(name);
  }

  /** Stores a whole object under a new generation. */
  put(bucket: string, name: string, data: Buffer, contentType = 'application/octet-stream'): StoredObject {
    const objects = this.buckets.get(bucket);
    if (objects === undefined) throw new Error(`no bucket ${bucket}`);
    this.nextGeneration += 1n;
    const object: StoredObject = {
      name, data, contentType,
      generation: String(this.nextGeneration),
      metageneration: '1',
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
      created: new Date(),
    };
    objects.set(name, object);
    return object;
  }

  delete(bucket: string, name: string): boolean {
    return this.buckets.get(bucket)?.delete(name) ?? false;
  }

  list(bucket: string, query: ListQuery): ListResult {
    const objects = this.buckets.get(bucket);
    if (objects === undefined) throw new Error(`no bucket ${bucket}`);
    const names = [...objects.keys()]
      .filter((name) => name.startsWith(query.prefix))
      .filter((name) => query.startOffset === undefined || compareNames(name, query.startOffset) >= 0)
      .filter((name) => query.endOffset === undefined || compareNames(name, query.endOffset) < 0)
      .sort(compareNames);
    const items: StoredObject[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    for (const name of names) {
      const entry = this.entryOf(name, query);
      if (query.after !== undefined && compareNames(entry, query.after) <= 0) continue;
      if (entry === prefixes.at(-1)) continue;
      if (items.length + prefixes.length === query.maxResults) return { items, prefixes, last };
      if (entry === name) items.push(objects.get(name)!);
      else prefixes.push(entry);
      last = entry;
    }
    return { items, prefixes };
  }

  /** The name itself, or the common prefix it rolls up into under the delimiter. */
  private entryOf(name: string, query: ListQuery): string {
    if (query.delimiter === undefined || query.delimiter === '') return name;
    const at = name.indexOf(query.delimiter, query.prefix.length);
    return at < 0 ? name : name.slice(0, at + query.delimiter.length);
  }
}

/** The object resource as the JSON API returns it. */
export function objectResource(bucket: string, object: StoredObject): Record<string, unknown> {
  const time = object.created.toISOString();
  return {
    kind: 'storage#object',
    id: `${bucket}/${object.name}/${object.generation}`,
    selfLink: `/storage/v1/b/${bucket}/o/${encodeURIComponent(object.name)}`,
    mediaLink: `/download/storage/v1/b/${bucket}/o/${encodeURIComponent(object.name)}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket,
    generation: object.generation,
    metageneration: object.metageneration,
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.data.length),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etagOf(object),
    timeCreated: time,
    updated: time,
    timeStorageClassUpdated: time,
  };
}

export function etagOf(object: StoredObject): string {
  return Buffer.from(`${object.generation}/${object.metageneration}`).toString('base64');
}
