/**
 * Google Cloud Storage through @google-cloud/storage (JSON API). The client's
 * own retries are off: every call goes through `withRetry`. Reads are plain
 * media downloads (gcs-media.ts) that resume from the byte reached, pinned
 * to the object's generation.
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import { JWT } from 'google-auth-library';
import type { Readable } from 'node:stream';
import type { GcpServiceAccount } from './credentials.js';
import { storeError, type StoreIdentity } from './faults.js';
import { openGcsMedia } from './gcs-media.js';
import { resumableRead } from './resumable-read.js';
import { forUpload, withRetry, type RetryOptions } from './retry.js';
import { KeyRoot } from './store-url.js';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore } from './store.js';

export interface GcsStoreOptions {
  readonly bucket: string;
  /** The root prefix: '' or ending with '/'. */
  readonly prefix: string;
  /** The JSON API's base URL, e.g. `http://127.0.0.1:4443`. @default https://storage.googleapis.com */
  readonly endpoint?: string;
  /** A service-account key; without it, application default credentials (workload identity, metadata server, gcloud). */
  readonly credentials?: GcpServiceAccount;
  readonly identity: StoreIdentity;
  readonly retry?: RetryOptions;
}

const DEFAULT_PAGE_SIZE = 1000;

interface ListResponse {
  readonly prefixes?: readonly string[];
  readonly nextPageToken?: string;
}

/** Reads, lists and writes objects; nothing more. */
const SCOPES = ['https://www.googleapis.com/auth/devstorage.read_write'];

/**
 * A client for a service-account key. Behind a custom endpoint (a private
 * endpoint, an emulator) oauth2.googleapis.com may be out of reach, so each
 * request carries a JWT signed with the key itself (a self-signed JWT), which
 * Google APIs accept in place of an OAuth access token.
 */
function serviceAccountClient(key: GcpServiceAccount, selfSigned: boolean): JWT {
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    ...(typeof key.private_key_id === 'string' ? { keyId: key.private_key_id } : {}),
    scopes: SCOPES,
  });
  if (selfSigned) client.useJWTAccessWithScope = true;
  return client;
}

export class GcsStore implements ObjectStore {
  readonly description: string;
  private readonly storage: Storage;
  private readonly bucket: Bucket;
  private readonly apiBase: string;
  private readonly root: KeyRoot;
  private readonly retry: RetryOptions;

  constructor(private readonly options: GcsStoreOptions) {
    this.description = options.identity.description;
    this.root = new KeyRoot(options.prefix);
    this.retry = options.retry ?? {};
    this.apiBase = options.endpoint ?? 'https://storage.googleapis.com';
    const storage = new Storage({
      ...(options.endpoint !== undefined ? { apiEndpoint: options.endpoint } : {}),
      ...(options.credentials !== undefined
        ? { authClient: serviceAccountClient(options.credentials, options.endpoint !== undefined), useAuthWithCustomEndpoint: true }
        : {}),
      ...(options.credentials?.project_id !== undefined ? { projectId: options.credentials.project_id } : {}),
      retryOptions: { autoRetry: false, maxRetries: 0 },
    });
    this.storage = storage;
    this.bucket = storage.bucket(options.bucket);
  }

  async list(options: ListOptions): Promise<ListPage> {
    const startAfter = this.root.fullOrUndefined(options.startAfter);
    try {
      const [files, , response] = await withRetry(() => this.bucket.getFiles({
        autoPaginate: false,
        prefix: this.root.full(options.prefix),
        ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
        // startOffset is inclusive, startAfter is not: the one equal name is dropped below.
        ...(startAfter !== undefined ? { startOffset: startAfter } : {}),
        ...(options.pageToken !== undefined ? { pageToken: options.pageToken } : {}),
        maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
      }), this.retry);
      const answer = (response ?? {}) as ListResponse;
      const objects: ObjectInfo[] = files
        .filter((file) => file.name !== startAfter)
        .map((file) => ({
          key: this.root.relative(file.name),
          size: Number(file.metadata.size ?? 0),
          ...(file.metadata.updated !== undefined ? { lastModified: new Date(file.metadata.updated) } : {}),
        }));
      const prefixes = (answer.prefixes ?? []).map((prefix) => this.root.relative(prefix));
      return { objects, prefixes, ...(answer.nextPageToken ? { nextPageToken: answer.nextPageToken } : {}) };
    } catch (error) {
      throw storeError(this.options.identity, `listing ${JSON.stringify(options.prefix)}`, error, true);
    }
  }

  read(key: string): Promise<Readable> {
    const name = this.root.full(key);
    return resumableRead((start, generation, signal) => openGcsMedia({
      base: this.apiBase, bucket: this.options.bucket, name, start, generation, signal,
      authorize: (url) => this.authorize(url),
    }), this.retry, (error) => storeError(this.options.identity, `reading object ${key}`, error));
  }

  /** The client's own Authorization header for a URL; none behind a custom endpoint without a key file, as the client does. */
  private async authorize(url: string): Promise<Headers | undefined> {
    if (this.options.endpoint !== undefined && this.options.credentials === undefined) return undefined;
    return this.storage.authClient.getRequestHeaders(url);
  }

  async write(key: string, data: Buffer): Promise<void> {
    try {
      await withRetry(() => this.bucket.file(this.root.full(key)).save(data, { resumable: false }), forUpload(this.retry, data.length));
    } catch (error) {
      throw storeError(this.options.identity, `writing object ${key}`, error, true);
    }
  }
}
