/**
 * Store URLs as the stitcher's `--source`, `--keys` and bucket outputs take them:
 *
 *     s3://bucket/prefix?region=R&endpoint=E
 *     gs://bucket/prefix?endpoint=E
 *     azblob://account/container/prefix?endpoint=E
 *
 * stitcher/store/store-url.ts parses them and refuses any other query parameter.
 */

export type StoreProvider = 's3' | 'gcs' | 'azure';

export interface StoreLocationSpec {
  readonly provider: StoreProvider;
  /** The S3 or GCS bucket, or the Azure container. */
  readonly bucket: string;
  /** Azure only: the storage account. */
  readonly account?: string;
  readonly prefix?: string;
  /** S3 only. */
  readonly region?: string;
  readonly endpoint?: string;
}

/** The query parameters each store scheme takes. */
export const STORE_QUERY_PARAMETERS: Readonly<Record<'s3' | 'gs' | 'azblob', readonly string[]>> = {
  s3: ['region', 'endpoint'],
  gs: ['endpoint'],
  azblob: ['endpoint'],
};

export function buildStoreUrl(location: StoreLocationSpec): string {
  const prefix = (location.prefix ?? '').replace(/^\/+/, '');
  const query = new URLSearchParams();
  if (location.provider === 's3' && location.region) query.set('region', location.region);
  if (location.endpoint) query.set('endpoint', location.endpoint);
  const base =
    location.provider === 'azure'
      ? `azblob://${location.account ?? ''}/${location.bucket}/${prefix}`
      : `${location.provider === 's3' ? 's3' : 'gs'}://${location.bucket}/${prefix}`;
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}
