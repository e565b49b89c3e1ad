/**
 * What went wrong in a call to an object store, told apart the same way for
 * S3, GCS and Azure: worth retrying (throttling, 5xx, timeouts, resets), or a
 * problem of access (credentials, bucket, permission) that retrying cannot fix.
 */

export type FaultKind =
  /** Throttling, a 5xx, a timeout or a broken connection: try again later. */
  | 'transient'
  /** Wrong or missing credentials, no permission, a missing bucket or container. */
  | 'access'
  /** The object itself is absent (the bucket is there). */
  | 'missing'
  /** The object changed while it was read (its ETag or generation moved). */
  | 'changed'
  /** Anything else: a bug or a request the store refuses; not retried. */
  | 'fatal';

export interface Fault {
  readonly kind: FaultKind;
  /** The HTTP status, when the store answered. */
  readonly status?: number;
  /** The provider's error code (`SlowDown`, `AuthenticationFailed`, `ECONNRESET`, ...). */
  readonly code?: string;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError',
  'ServiceUnavailable', 'ServerBusy', 'OperationTimedOut', 'rateLimitExceeded', 'backendError',
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE', 'REQUEST_SEND_ERROR', 'PARSE_ERROR', 'CONTENT_DOWNLOAD_MISMATCH',
  'TimeoutError', 'AbortError', 'StoreTimeout', 'TruncatedRead',
]);
const ACCESS_CODES = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'AllAccessDisabled', 'NoSuchBucket',
  'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'AuthenticationFailed', 'AuthorizationFailure',
  'AuthorizationPermissionMismatch', 'ContainerNotFound', 'AccountIsDisabled', 'InvalidAuthenticationInfo',
  'CredentialsProviderError', 'CredentialsError', 'invalid_grant', 'forbidden', 'unauthorized',
]);
const MISSING_CODES = new Set(['NoSuchKey', 'NotFound', 'BlobNotFound', 'notFound']);
const CHANGED_CODES = new Set(['PreconditionFailed', 'ConditionNotMet', 'conditionNotMet']);

/** Tells what kind of failure `error` is, from whatever shape the SDK gave it. */
export function classifyFault(error: unknown): Fault {
  const status = statusOf(error);
  const code = codeOf(error);
  const kind = kindOf(status, code, error);
  return { kind, ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
}

function kindOf(status: number | undefined, code: string | undefined, error: unknown): FaultKind {
  if (code !== undefined && ACCESS_CODES.has(code)) return 'access';
  if (code !== undefined && MISSING_CODES.has(code)) return 'missing';
  if (code !== undefined && CHANGED_CODES.has(code)) return 'changed';
  if (code !== undefined && TRANSIENT_CODES.has(code)) return 'transient';
  if (status === 401 || status === 403) return 'access';
  if (status === 404) return 'missing';
  if (status === 412) return 'changed';
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return 'transient';
  if (status === undefined && looksLikeBrokenConnection(error)) return 'transient';
  return 'fatal';
}

function looksLikeBrokenConnection(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /socket hang up|aborted|premature close|ECONNRESET|EPIPE|timed? ?out|other side closed|terminated|fetch failed/i
    .test(message);
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const candidates = [
    (e.$metadata as Record<string, unknown> | undefined)?.httpStatusCode, // AWS SDK v3
    e.statusCode, // Azure RestError
    e.status, // gaxios
    (e.response as Record<string, unknown> | undefined)?.status,
    typeof e.code === 'number' ? e.code : undefined, // GCS ApiError
  ];
  return candidates.find((value): value is number => typeof value === 'number' && value >= 100 && value < 600);
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  const oauthError = ((e.response as Record<string, unknown> | undefined)?.data as Record<string, unknown> | undefined)?.error;
  if (typeof oauthError === 'string') return oauthError; // google-auth-library: invalid_grant, ...
  const gcsReason = firstReason(e.errors);
  if (gcsReason !== undefined) return gcsReason;
  const cause = e.cause as Record<string, unknown> | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'RestError') return e.name;
  return undefined;
}

function firstReason(errors: unknown): string | undefined {
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const reason = (errors[0] as Record<string, unknown>).reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** What an adapter knows about itself, for error messages; never a secret. */
export interface StoreIdentity {
  /** The store's URL without secrets, e.g. `s3://bucket/prefix`. */
  readonly description: string;
  /** The credential file in use, or undefined for the ambient identity. */
  readonly credentialsFile?: string;
  /** Which ambient identity is used without a file, for messages. @default 'the ambient identity' */
  readonly ambient?: string;
}

/**
 * The one clear error for a store that cannot be used as configured. It names
 * the store URL and the credential file; it never repeats the SDK's message,
 * which may quote signatures or request details.
 */
export class StoreAccessError extends Error {
  /** What the store answered (its status and code feed metrics); the kind is always access. */
  readonly fault: Fault;

  constructor(identity: StoreIdentity, action: string, fault: Fault) {
    const credentials = identity.credentialsFile !== undefined
      ? `credentials from ${identity.credentialsFile}`
      : `${identity.ambient ?? 'the ambient identity'} (no credentials file)`;
    super(`while ${action} in ${identity.description} with ${credentials}: access refused (${codeAndStatus(fault)}); ` +
      'check the bucket or container name, that it exists, the credentials and the permission to list and read');
    this.name = 'StoreAccessError';
    this.fault = { ...fault, kind: 'access' };
  }
}

/**
 * An error for a failed call that names the store, the action and the provider's code, not its message.
 * @param bucketLevel a 404 here means the bucket or container is missing (a listing), not an object.
 */
export function storeError(identity: StoreIdentity, action: string, error: unknown, bucketLevel = false): Error {
  const fault = faultOf(error);
  if (error instanceof StoreAccessError) return error;
  if (fault.kind === 'access' || (bucketLevel && fault.kind === 'missing')) return new StoreAccessError(identity, action, fault);
  // An unexpected failure needs its message to be understood; it is cut and scrubbed of anything key-like.
  const message = fault.kind === 'fatal' ? `: ${scrubbed(error)}` : '';
  const wrapped = new Error(`while ${action} in ${identity.description}: ${describeKind(fault.kind)} (${codeAndStatus(fault)})${message}`);
  Object.assign(wrapped, { fault });
  return wrapped;
}

function codeAndStatus(fault: Fault): string {
  const parts = [fault.code, fault.status !== undefined ? `HTTP ${fault.status}` : undefined].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(', ') : 'no code';
}

/** The first line of an error's message, at most 200 characters, long tokens (keys, signatures) blanked. */
function scrubbed(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 200);
  return text.replace(/[A-Za-z0-9+/=_-]{24,}/g, '[redacted]');
}

function describeKind(kind: FaultKind): string {
  switch (kind) {
    case 'transient': return 'the store kept failing after every retry';
    case 'missing': return 'not found';
    case 'changed': return 'the object changed while it was read';
    default: return 'the store refused the request';
  }
}

/** The fault a wrapped error carries (see `storeError`), else its classification. */
export function faultOf(error: unknown): Fault {
  if (error instanceof StoreAccessError) return error.fault;
  const carried = (error as { fault?: Fault } | undefined)?.fault;
  return carried ?? classifyFault(error);
}
