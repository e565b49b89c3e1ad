/**
 * Opens any store from its URL and (optional) credential file. The traffic
 * (`--source`), the keys (`--keys`) and the output may each live in another
 * provider with other credentials: every call opens an independent client.
 */
import type { AnonymousCredential } from '@azure/storage-blob';
import { stat } from 'node:fs/promises';
import type { TokenCredential } from './azure-blob.js';
import { readAwsCredentials, readAzureSharedKey, readGcpServiceAccount } from './credentials.js';
import type { StoreIdentity } from './faults.js';
import { LocalFolderStore } from './local.js';
import type { RetryOptions } from './retry.js';
import { describeStoreUrl, parseStoreUrl, type StoreUrl } from './store-url.js';
import type { ObjectStore } from './store.js';

export interface OpenStoreOptions {
  /** A credential file in the gateway's export format; without it, the provider's ambient identity. */
  readonly credentialsFile?: string;
  /**
   * What the store is for. A source or keys store is checked up front (one
   * listing of at most one key), so a wrong bucket or key fails at start with one clear error.
   * @default 'source'
   */
  readonly role?: 'source' | 'keys' | 'output';
  /** Backoff, attempts and timeouts for every call. @default DEFAULT_RETRY */
  readonly retry?: RetryOptions;
}

/**
 * Opens `url` (file://, s3://, gs://, azblob://). Throws when the URL is
 * malformed, the credential file cannot be read, or (for a source or keys
 * store) the bucket, container or folder cannot be listed.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ObjectStore> {
  const parsed = parseStoreUrl(url);
  const role = options.role ?? 'source';
  const store = await openParsed(parsed, options);
  if (role !== 'output' && parsed.scheme !== 'file') {
    try {
      await store.list({ prefix: '', delimiter: '/', pageSize: 1 });
    } catch (error) {
      await store.close?.();
      throw error;
    }
  }
  return store;
}

/**
 * The three provider SDKs are imported when a store of theirs is opened: loading them
 * all costs about half a second of CPU at every start (measured with `--help`), more
 * than a local run of 100 MB takes to stitch.
 */
async function openParsed(url: StoreUrl, options: OpenStoreOptions): Promise<ObjectStore> {
  const file = options.credentialsFile;
  const identity = (ambient: string): StoreIdentity => ({
    description: describeStoreUrl(url),
    ...(file !== undefined ? { credentialsFile: file } : { ambient }),
  });
  const retry = options.retry ?? {};
  switch (url.scheme) {
    case 'file':
      if (options.credentialsFile !== undefined) {
        throw new Error(`store ${describeStoreUrl(url)}: a local folder takes no credentials file`);
      }
      if ((options.role ?? 'source') !== 'output') await checkFolder(url.path, options.role ?? 'source');
      return new LocalFolderStore(url.path);
    case 's3': {
      const { S3Store } = await import('./s3.js');
      return new S3Store({
        bucket: url.bucket, prefix: url.prefix, region: url.region, endpoint: url.endpoint, retry,
        identity: identity('the AWS default credential chain (environment, profile, IRSA web identity, instance role)'),
        ...(file !== undefined ? { credentials: await readAwsCredentials(file) } : {}),
      });
    }
    case 'gs': {
      const { GcsStore } = await import('./gcs.js');
      return new GcsStore({
        bucket: url.bucket, prefix: url.prefix, endpoint: url.endpoint, retry,
        identity: identity(url.endpoint !== undefined
          ? 'no authentication (a custom endpoint without a key file sends none, as for an emulator)'
          : 'Google application default credentials (workload identity, metadata server, gcloud)'),
        ...(file !== undefined ? { credentials: await readGcpServiceAccount(file) } : {}),
      });
    }
    case 'azblob': {
      const [{ AzureBlobStore }, { StorageSharedKeyCredential }] = await Promise.all([import('./azure-blob.js'), import('@azure/storage-blob')]);
      const { credential, name } = file !== undefined
        ? { credential: new StorageSharedKeyCredential(url.account, (await readAzureSharedKey(file)).accessKey), name: '' }
        : await azureAmbientCredential();
      return new AzureBlobStore({
        account: url.account, container: url.container, prefix: url.prefix, endpoint: url.endpoint, retry, credential,
        identity: identity(name),
      });
    }
  }
}

async function checkFolder(path: string, role: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new Error(`${role} folder ${path} does not exist`);
  if (!info.isDirectory()) throw new Error(`${role} folder ${path} is not a folder`);
}

/**
 * Azure's managed and workload identity live in @azure/identity, which is not
 * one of cloudtap's dependencies: when it is installed, DefaultAzureCredential
 * is used; otherwise access is anonymous (a public container), and a refusal
 * says so.
 */
async function azureAmbientCredential(): Promise<{ credential: TokenCredential | AnonymousCredential; name: string }> {
  const moduleName = '@azure/identity';
  try {
    const identity = (await import(moduleName)) as { DefaultAzureCredential?: new () => TokenCredential };
    if (identity.DefaultAzureCredential !== undefined) {
      return { credential: new identity.DefaultAzureCredential(), name: 'DefaultAzureCredential (managed or workload identity)' };
    }
  } catch {
    // not installed: fall through to anonymous access
  }
  const { AnonymousCredential } = await import('@azure/storage-blob');
  return {
    credential: new AnonymousCredential(),
    name: 'anonymous access (install @azure/identity for managed or workload identity, or pass an {"access_key"} file)',
  };
}
