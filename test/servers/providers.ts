/**
 * The cloud store peers together, with credential files in the gateway's
 * export formats, for tests that run the same checks on every provider:
 * versitygw (S3, verifies SigV4 signatures), GCS twice, as the in-repo strict
 * test server (with service-account token checks) and as fake-gcs-server (the
 * community's emulator, no auth), and Azurite (shared-key signatures). Started
 * once per process on first use; stop them with `stopProviders()` (e.g. in a root `after`).
 */
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from './azurite.js';
import { GcsTestServer } from './gcs-server.js';
import { startFakeGcs } from './fake-gcs.js';
import { startVersitygw, type Versitygw } from './versitygw.js';

export type ProviderName = 's3' | 'gcs' | 'fakeGcs' | 'azure';

export interface ProviderAccess {
  readonly name: ProviderName;
  /** The server's endpoint (S3, GCS) or blob service URL (Azure). */
  readonly endpoint: string;
  /** A store URL for `bucket` (container) and `prefix`, through `endpoint` unless another is given. */
  url(bucket: string, prefix: string, endpoint?: string): string;
  readonly credentialsFile: string;
  /** The secret in the credentials file, to assert that it never shows. */
  readonly secret: string;
}

export interface Providers {
  readonly s3: ProviderAccess;
  /** The root key pair of the S3 server, for tests of the ambient credential chain. */
  readonly s3Root: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The in-repo GCS test server: strict, checks service-account tokens. */
  readonly gcs: ProviderAccess;
  /** fake-gcs-server: a GCS peer we did not write; takes any credentials. */
  readonly fakeGcs: ProviderAccess;
  readonly azure: ProviderAccess;
  readonly gcsServer: GcsTestServer;
  /** A folder for more credential files. */
  readonly folder: string;
  /** A GCP key file for the same client_email signed by another key (a wrong key). */
  readonly wrongGcpKeyFile: string;
}

/** Buckets (and containers) made on every server. */
export const BUCKETS = ['tap', 'keys', 'other'] as const;

let running: Promise<{ providers: Providers; stop: () => Promise<void> }> | undefined;

export function startProviders(): Promise<Providers> {
  running ??= launch();
  return running.then((started) => started.providers);
}

export async function stopProviders(): Promise<void> {
  if (running === undefined) return;
  const started = await running;
  running = undefined;
  await started.stop();
}

async function launch(): Promise<{ providers: Providers; stop: () => Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), 'cloudtap-providers-'));
  const [s3, azurite, fakeGcs] = await Promise.all([startVersitygw(BUCKETS), startAzurite(), startFakeGcs(BUCKETS)]);
  const account = serviceAccount('stitcher@cloudtap-test.iam.gserviceaccount.com');
  const gcsServer = new GcsTestServer({
    buckets: BUCKETS,
    serviceAccount: { clientEmail: account.json.client_email, publicKeyPem: account.publicKeyPem },
  });
  const gcsEndpoint = await gcsServer.start();
  await createContainers(azurite);
  const files = await writeCredentialFiles(folder, account.json, s3);
  const providers: Providers = {
    folder,
    gcsServer,
    wrongGcpKeyFile: files.wrongGcp,
    s3: s3Access(s3, files.aws),
    s3Root: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    gcs: {
      name: 'gcs', endpoint: gcsEndpoint, credentialsFile: files.gcp, secret: account.json.private_key,
      url: (bucket, prefix, endpoint = gcsEndpoint) => `gs://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    },
    fakeGcs: {
      name: 'fakeGcs', endpoint: fakeGcs.endpoint, credentialsFile: files.gcp, secret: account.json.private_key,
      url: (bucket, prefix, endpoint = fakeGcs.endpoint) => `gs://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    },
    azure: {
      name: 'azure', endpoint: azurite.endpoint, credentialsFile: files.azure, secret: AZURITE_KEY,
      url: (container, prefix, endpoint = azurite.endpoint) =>
        `azblob://${AZURITE_ACCOUNT}/${container}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    },
  };
  const stop = async (): Promise<void> => {
    await Promise.all([s3.stop(), azurite.stop(), gcsServer.stop(), fakeGcs.stop()]);
    await rm(folder, { recursive: true, force: true });
  };
  return { providers, stop };
}

function s3Access(s3: Versitygw, file: string): ProviderAccess {
  return {
    name: 's3', endpoint: s3.endpoint, credentialsFile: file, secret: s3.secretAccessKey,
    url: (bucket, prefix, endpoint = s3.endpoint) =>
      `s3://${bucket}/${prefix}?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}`,
  };
}

async function createContainers(azurite: Azurite): Promise<void> {
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  for (const container of BUCKETS) await new ContainerClient(`${azurite.endpoint}/${container}`, credential).create();
}

interface ServiceAccountJson {
  readonly type: 'service_account';
  readonly project_id: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly client_email: string;
  readonly client_id: string;
  readonly token_uri: string;
}

/** A fresh service account key pair, as `gcloud iam service-accounts keys create` writes it. */
export function serviceAccount(email: string): { json: ServiceAccountJson; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    publicKeyPem: publicKey,
    json: {
      type: 'service_account', project_id: 'cloudtap-test', private_key_id: 'test-key-1', private_key: privateKey,
      client_email: email, client_id: '100000000000000000001', token_uri: 'https://oauth2.googleapis.com/token',
    },
  };
}

async function writeCredentialFiles(folder: string, gcp: ServiceAccountJson, s3: Versitygw): Promise<{ aws: string; gcp: string; azure: string; wrongGcp: string }> {
  const files = { aws: join(folder, 'aws.json'), gcp: join(folder, 'gcp.json'), azure: join(folder, 'azure.json'), wrongGcp: join(folder, 'gcp-wrong.json') };
  await writeFile(files.aws, JSON.stringify({ access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey, region: 'us-east-1' }), { mode: 0o600 });
  await writeFile(files.gcp, JSON.stringify(gcp));
  await writeFile(files.azure, JSON.stringify({ access_key: AZURITE_KEY }));
  await writeFile(files.wrongGcp, JSON.stringify(serviceAccount(gcp.client_email).json));
  return files;
}
