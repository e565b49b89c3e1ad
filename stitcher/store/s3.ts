/**
 * Amazon S3 (and S3-compatible stores) through @aws-sdk/client-s3. The SDK's
 * own retries are off: every call goes through `withRetry`, and reads resume
 * from the byte reached with a Range pinned to the object's ETag.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { AwsCredentials } from './credentials.js';
import { storeError, type StoreIdentity } from './faults.js';
import { resumableRead, type RangeResponse } from './resumable-read.js';
import { forUpload, withRetry, type RetryOptions } from './retry.js';
import { KeyRoot } from './store-url.js';
import type { ListOptions, ListPage, ObjectStore } from './store.js';

export interface S3StoreOptions {
  readonly bucket: string;
  /** The root prefix: '' or ending with '/'. */
  readonly prefix: string;
  /** @default the credentials file's region, else AWS_REGION, else us-east-1 (redirects are followed) */
  readonly region?: string;
  /** An S3-compatible endpoint; implies path-style addressing. @default AWS */
  readonly endpoint?: string;
  /** Static keys; without them the SDK's default chain (environment, profile, IRSA web identity, instance role). */
  readonly credentials?: AwsCredentials;
  readonly identity: StoreIdentity;
  readonly retry?: RetryOptions;
}

const DEFAULT_PAGE_SIZE = 1000;

export class S3Store implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly root: KeyRoot;
  private readonly retry: RetryOptions;

  constructor(private readonly options: S3StoreOptions) {
    this.description = options.identity.description;
    this.root = new KeyRoot(options.prefix);
    this.retry = options.retry ?? {};
    const credentials = options.credentials;
    this.client = new S3Client({
      region: options.region ?? credentials?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      followRegionRedirects: true,
      maxAttempts: 1,
      // S3-compatible stores (and s3rver) know no flexible checksums: send them only where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(credentials !== undefined
        ? {
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
          },
        }
        : {}),
    });
  }

  async list(options: ListOptions): Promise<ListPage> {
    const action = `listing ${JSON.stringify(options.prefix)}`;
    try {
      const answer = await withRetry((abortSignal) => this.client.send(new ListObjectsV2Command({
        Bucket: this.options.bucket,
        Prefix: this.root.full(options.prefix),
        Delimiter: options.delimiter,
        StartAfter: this.root.fullOrUndefined(options.startAfter),
        ContinuationToken: options.pageToken,
        MaxKeys: options.pageSize ?? DEFAULT_PAGE_SIZE,
      }), { abortSignal }), this.retry);
      return {
        objects: (answer.Contents ?? []).map((item) => ({
          key: this.root.relative(item.Key ?? ''),
          size: item.Size ?? 0,
          ...(item.LastModified !== undefined ? { lastModified: item.LastModified } : {}),
        })),
        prefixes: (answer.CommonPrefixes ?? []).map((item) => this.root.relative(item.Prefix ?? '')),
        ...(answer.IsTruncated === true && answer.NextContinuationToken !== undefined
          ? { nextPageToken: answer.NextContinuationToken }
          : {}),
      };
    } catch (error) {
      throw storeError(this.options.identity, action, error, true);
    }
  }

  read(key: string): Promise<Readable> {
    const name = this.root.full(key);
    return resumableRead(async (start, version, abortSignal): Promise<RangeResponse> => {
      const answer = await this.client.send(new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: name,
        ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        ...(version !== undefined ? { IfMatch: version } : {}),
      }), { abortSignal });
      const body = answer.Body as Readable | undefined;
      if (body === undefined) throw new Error('the answer has no body');
      return { body, size: totalSize(answer.ContentRange, start, answer.ContentLength), version: answer.ETag };
    }, this.retry, (error) => storeError(this.options.identity, `reading object ${key}`, error));
  }

  async write(key: string, data: Buffer): Promise<void> {
    try {
      await withRetry((abortSignal) => this.client.send(new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.root.full(key),
        Body: data,
        ContentLength: data.length,
      }), { abortSignal }), forUpload(this.retry, data.length));
    } catch (error) {
      throw storeError(this.options.identity, `writing object ${key}`, error, true);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** The whole object's size from `Content-Range: bytes a-b/total`, else from the start and the length. */
export function totalSize(contentRange: string | undefined, start: number, contentLength: number | undefined): number {
  const total = contentRange?.match(/\/(\d+)\s*$/)?.[1];
  if (total !== undefined) return Number(total);
  return start + (contentLength ?? 0);
}
