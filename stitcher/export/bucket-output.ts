/**
 * Capture files into a bucket: `pcapng+s3://bucket/prefix/?rotate-size=100M`
 * (any store URL after `pcap+` or `pcapng+`). Files rotate in a local scratch
 * folder as a folder output does; each one is uploaded whole (one PUT, so
 * readers never see half a file) when it is complete, then deleted.
 */
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ObjectStore } from '../store/store.js';
import { openFileOutput, type FileOutput } from './file-output.js';
import { ROTATION_PARAMETERS } from '../../contract/output-url.js';

export interface BucketOutputUrl {
  readonly format: 'pcap' | 'pcapng';
  /** The store URL, with the store's own query parameters (region, endpoint). */
  readonly storeUrl: string;
  /** `rotate-size=...&rotate-seconds=...`, possibly empty. */
  readonly rotation: string;
}

export function isBucketOutputUrl(url: string): boolean {
  return /^pcap(ng)?\+[a-z0-9]+:\/\//i.test(url);
}

/** @throws Error `output <url>: ...` */
export function parseBucketOutputUrl(url: string): BucketOutputUrl {
  const plus = url.indexOf('+');
  const format = url.slice(0, plus).toLowerCase();
  if (format !== 'pcap' && format !== 'pcapng') throw new Error(`output ${url}: expected pcap+<store url> or pcapng+<store url>`);
  let store: URL;
  try {
    store = new URL(url.slice(plus + 1));
  } catch {
    throw new Error(`output ${url}: '${url.slice(plus + 1)}' is not a store URL`);
  }
  const rotation = new URLSearchParams();
  for (const name of ROTATION_PARAMETERS) {
    const value = store.searchParams.get(name);
    if (value !== null) rotation.set(name, value);
    store.searchParams.delete(name);
  }
  return { format, storeUrl: store.toString(), rotation: rotation.toString() };
}

/** Opens a bucket output on an opened store (the caller resolves credentials). */
export async function openBucketOutput(url: string, spec: BucketOutputUrl, store: ObjectStore): Promise<FileOutput> {
  const scratch = await mkdtemp(join(tmpdir(), 'cloudtap-upload-'));
  const folderUrl = `${spec.format}://${scratch}/${spec.rotation === '' ? '' : `?${spec.rotation}`}`;
  const output = await openFileOutput(folderUrl, {
    onFileClosed: async (path) => {
      try {
        await store.write(basename(path), await readFile(path));
      } catch (error) {
        throw new Error(`output ${url}: uploading ${basename(path)} to ${store.description}: ${(error as Error).message}`);
      }
      await unlink(path);
    },
  });
  const close = output.close.bind(output);
  return Object.assign(output, {
    description: url,
    /** What is in the bucket is exported, not what waits in the scratch folder: the file so far is uploaded. */
    flush: (): Promise<void> => output.endFile(),
    async close(): Promise<void> {
      try {
        await close();
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  });
}
