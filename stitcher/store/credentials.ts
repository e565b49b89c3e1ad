/**
 * Credential files in exactly the formats the gateway's users export:
 *   AWS    {"access_key_id", "secret_access_key", "session_token"?, "region"?}
 *   GCP    a service-account key file (type "service_account", client_email, private_key, ...)
 *   Azure  {"access_key"} (the account comes from the store URL)
 * Errors name the file and the field at fault, never a value.
 */
import { readFile } from 'node:fs/promises';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region?: string;
}

/** The parsed service-account key, handed to @google-cloud/storage as `credentials`. */
export interface GcpServiceAccount {
  readonly type: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly project_id?: string;
  readonly [field: string]: unknown;
}

export interface AzureSharedKey {
  readonly accessKey: string;
}

export type Provider = 'aws' | 'gcp' | 'azure';

/** Reads and parses a credential file as JSON; the error names the file, not its content. */
async function readJsonObject(path: string, provider: Provider): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`while reading the ${provider} credentials file ${path}: ${code}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text near the fault: that may be part of a secret.
    throw new Error(`while reading the ${provider} credentials file ${path}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`while reading the ${provider} credentials file ${path}: expected a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function requiredString(object: Record<string, unknown>, field: string, path: string, provider: Provider): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`while reading the ${provider} credentials file ${path}: field "${field}" is missing or not a non-empty string`);
  }
  return value;
}

function optionalString(object: Record<string, unknown>, field: string, path: string, provider: Provider): string | undefined {
  if (object[field] === undefined || object[field] === null) return undefined;
  return requiredString(object, field, path, provider);
}

/** `{"access_key_id","secret_access_key"}` with optional `session_token` and `region`. */
export async function readAwsCredentials(path: string): Promise<AwsCredentials> {
  const json = await readJsonObject(path, 'aws');
  const sessionToken = optionalString(json, 'session_token', path, 'aws');
  const region = optionalString(json, 'region', path, 'aws');
  return {
    accessKeyId: requiredString(json, 'access_key_id', path, 'aws'),
    secretAccessKey: requiredString(json, 'secret_access_key', path, 'aws'),
    ...(sessionToken !== undefined ? { sessionToken } : {}),
    ...(region !== undefined ? { region } : {}),
  };
}

/** A GCP service-account key file, checked for the fields the client signs with. */
export async function readGcpServiceAccount(path: string): Promise<GcpServiceAccount> {
  const json = await readJsonObject(path, 'gcp');
  const type = requiredString(json, 'type', path, 'gcp');
  if (type !== 'service_account') {
    throw new Error(`while reading the gcp credentials file ${path}: field "type" must be "service_account"`);
  }
  requiredString(json, 'client_email', path, 'gcp');
  requiredString(json, 'private_key', path, 'gcp');
  return json as GcpServiceAccount;
}

/** `{"access_key"}`: the storage account's shared key (base64). */
export async function readAzureSharedKey(path: string): Promise<AzureSharedKey> {
  const json = await readJsonObject(path, 'azure');
  const accessKey = requiredString(json, 'access_key', path, 'azure');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(accessKey)) {
    throw new Error(`while reading the azure credentials file ${path}: field "access_key" is not base64`);
  }
  return { accessKey };
}
