/**
 * Checks that a referenced Secret holds gateway-format JSON for its
 * provider. Messages name the Secret, the key and the missing field, never
 * a value: credentials do not belong in conditions or logs.
 */
import type { Provider, SecretKeyRef } from '../api/types.js';
import { defaultCredentialsKey } from '../api/defaults.js';

export type CredentialsProblem = { readonly reason: 'SecretNotFound' | 'KeyNotFound' | 'InvalidCredentials'; readonly message: string };

const requiredFields: Readonly<Record<Provider, readonly string[]>> = {
  s3: ['access_key_id', 'secret_access_key'],
  gcs: ['type', 'client_email', 'private_key'],
  azure: ['access_key'],
};

/**
 * @param data the Secret's data (base64 values), undefined when the Secret does not exist
 * @returns undefined when the credentials look usable
 */
export function checkCredentials(
  provider: Provider,
  ref: SecretKeyRef,
  data: Readonly<Record<string, string>> | undefined,
  field: string,
): CredentialsProblem | undefined {
  const key = ref.key ?? defaultCredentialsKey;
  if (data === undefined) {
    return { reason: 'SecretNotFound', message: `${field}: Secret "${ref.name}" not found in the CloudTap's namespace` };
  }
  const encoded = data[key];
  if (encoded === undefined) return { reason: 'KeyNotFound', message: `${field}: Secret "${ref.name}" has no key "${key}"` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return { reason: 'InvalidCredentials', message: `${field}: Secret "${ref.name}" key "${key}" is not JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { reason: 'InvalidCredentials', message: `${field}: Secret "${ref.name}" key "${key}" is not a JSON object` };
  }
  const missing = requiredFields[provider].filter((name) => typeof (parsed as Record<string, unknown>)[name] !== 'string');
  if (missing.length > 0) {
    return {
      reason: 'InvalidCredentials',
      message: `${field}: Secret "${ref.name}" key "${key}" lacks ${missing.join(', ')} for provider ${provider}`,
    };
  }
  return undefined;
}
