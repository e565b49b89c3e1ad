/**
 * Azure Blob Storage through @azure/storage-blob. The SDK's own retries are
 * off: every call goes through `withRetry`, and reads resume from the byte
 * reached with a Range pinned to the blob's ETag.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { storeError, type StoreIdentity } from './faults.js';
import { resumableRead, type RangeResponse } from './resumable-read.js';
import { forUpload, withRetry, type RetryOptions } from './retry.js';
import { totalSize } from './s3.js';
import { KeyRoot } from './store-url.js';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore } from './store.js';
import type { StorageSharedKeyCredential, AnonymousCredential } from '@azure/storage-blob';

/** The shape of an @azure/identity credential (that package is optional, so only its shape is named here). */
export interface TokenCredential {
  getToken(scopes: string | string[], options?: object): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface AzureBlobStoreOptions {
  readonly account: string;
  readonly container: string;
  /** The root prefix: '' or ending with '/'. */
  readonly prefix: string;
  /** The blob service URL. @default https://<account>.blob.core.windows.net */
  readonly endpoint?: string;
  /** A shared key, an Entra ID token credential, or anonymous access. */
  readonly credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential;
  readonly identity: StoreIdentity;
  readonly retry?: RetryOptions;
}

const DEFAULT_PAGE_SIZE = 1000;

interface BlobItemLike {
  readonly name: string;
  readonly properties: { readonly contentLength?: number; readonly lastModified?: Date };
}

interface SegmentPage {
  readonly continuationToken?: string;
  readonly segment: {
    readonly blobItems?: readonly BlobItemLike[];
    readonly blobPrefixes?: readonly { readonly name: string }[];
  };
}

export class AzureBlobStore implements ObjectStore {
  readonly description: string;
  private readonly container: ContainerClient;
  private readonly root: KeyRoot;
  private readonly retry: RetryOptions;

  constructor(private readonly options: AzureBlobStoreOptions) {
    this.description = options.identity.description;
    this.root = new KeyRoot(options.prefix);
    this.retry = options.retry ?? {};
    const serviceUrl = options.endpoint ?? `https://${options.account}.blob.core.windows.net`;
    const service = new BlobServiceClient(serviceUrl, options.credential, { retryOptions: { maxTries: 1 } });
    this.container = service.getContainerClient(options.container);
  }

  async list(options: ListOptions): Promise<ListPage> {
    const startAfter = this.root.fullOrUndefined(options.startAfter);
    const query = {
      prefix: this.root.full(options.prefix),
      // startFrom is inclusive, startAfter is not: the one equal name is dropped below.
      ...(startAfter !== undefined ? { startFrom: startAfter } : {}),
    };
    const paging = { maxPageSize: options.pageSize ?? DEFAULT_PAGE_SIZE, continuationToken: options.pageToken };
    try {
      const page = await withRetry(async (abortSignal) => {
        const pages = options.delimiter !== undefined
          ? this.container.listBlobsByHierarchy(options.delimiter, { ...query, abortSignal }).byPage(paging)
          : this.container.listBlobsFlat({ ...query, abortSignal }).byPage(paging);
        const first = await pages.next();
        return first.value as SegmentPage;
      }, this.retry);
      const objects: ObjectInfo[] = (page.segment.blobItems ?? [])
        .filter((item) => item.name !== startAfter)
        .map((item) => ({
          key: this.root.relative(item.name),
          size: item.properties.contentLength ?? 0,
          ...(item.properties.lastModified !== undefined ? { lastModified: item.properties.lastModified } : {}),
        }));
      const prefixes = (page.segment.blobPrefixes ?? []).map((prefix) => this.root.relative(prefix.name));
      return { objects, prefixes, ...(page.continuationToken ? { nextPageToken: page.continuationToken } : {}) };
    } catch (error) {
      throw storeError(this.options.identity, `listing ${JSON.stringify(options.prefix)}`, error, true);
    }
  }

  read(key: string): Promise<Readable> {
    const blob = this.container.getBlobClient(this.root.full(key));
    return resumableRead(async (start, version, abortSignal): Promise<RangeResponse> => {
      const answer = await blob.download(start, undefined, {
        abortSignal,
        maxRetryRequests: 0,
        ...(version !== undefined ? { conditions: { ifMatch: version } } : {}),
      });
      const body = answer.readableStreamBody as Readable | undefined;
      if (body === undefined) throw new Error('the answer has no body');
      return { body, size: totalSize(answer.contentRange, start, answer.contentLength), version: answer.etag };
    }, this.retry, (error) => storeError(this.options.identity, `reading object ${key}`, error));
  }

  async write(key: string, data: Buffer): Promise<void> {
    const blob = this.container.getBlockBlobClient(this.root.full(key));
    try {
      await withRetry((abortSignal) => blob.upload(data, data.length, { abortSignal }), forUpload(this.retry, data.length));
    } catch (error) {
      throw storeError(this.options.identity, `writing object ${key}`, error, true);
    }
  }
}
