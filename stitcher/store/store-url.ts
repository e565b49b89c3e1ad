/**
 * Store URLs, parsed once:
 *   file:///abs/path/prefix
 *   s3://bucket/prefix?region=R&endpoint=E
 *   gs://bucket/prefix?endpoint=E
 *   azblob://account/container/prefix?endpoint=E
 */

export type StoreUrl =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly prefix: string; readonly region?: string; readonly endpoint?: string }
  | { readonly scheme: 'gs'; readonly bucket: string; readonly prefix: string; readonly endpoint?: string }
  | {
    readonly scheme: 'azblob'; readonly account: string; readonly container: string; readonly prefix: string;
    readonly endpoint?: string;
  };

import { STORE_QUERY_PARAMETERS } from '../../contract/store-url.js';

const ALLOWED_QUERY: Readonly<Record<string, readonly string[]>> = STORE_QUERY_PARAMETERS;

/** Parses a store URL; throws naming the URL (its query dropped) and what is wrong with it. */
export function parseStoreUrl(text: string): StoreUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`store URL ${withoutQuery(text)} is not a URL (expected file://, s3://, gs:// or azblob://)`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'file') {
    if (url.host !== '') throw new Error(`store URL ${withoutQuery(text)}: file URLs take an absolute path, file:///path`);
    return { scheme, path: decodeURIComponent(url.pathname).replace(/\/+$/, '') || '/' };
  }
  if (scheme !== 's3' && scheme !== 'gs' && scheme !== 'azblob') {
    throw new Error(`store URL ${withoutQuery(text)}: unknown scheme "${scheme}" (expected file, s3, gs or azblob)`);
  }
  for (const name of url.searchParams.keys()) {
    if (!ALLOWED_QUERY[scheme].includes(name)) {
      throw new Error(`store URL ${withoutQuery(text)}: unknown query parameter "${name}" (allowed: ${ALLOWED_QUERY[scheme].join(', ')})`);
    }
  }
  const endpoint = optional(url.searchParams.get('endpoint'));
  if (endpoint !== undefined) checkEndpoint(endpoint, text);
  const host = decodeURIComponent(url.hostname);
  if (host === '') throw new Error(`store URL ${withoutQuery(text)}: no bucket${scheme === 'azblob' ? ' (account)' : ''} named`);
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  if (scheme === 's3') {
    const region = optional(url.searchParams.get('region'));
    return { scheme, bucket: host, prefix: asPrefix(path), ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
  }
  if (scheme === 'gs') return { scheme, bucket: host, prefix: asPrefix(path), ...(endpoint ? { endpoint } : {}) };
  const slash = path.indexOf('/');
  const container = slash < 0 ? path : path.slice(0, slash);
  if (container === '') throw new Error(`store URL ${withoutQuery(text)}: no container named (azblob://account/container/prefix)`);
  return { scheme, account: host, container, prefix: asPrefix(slash < 0 ? '' : path.slice(slash + 1)), ...(endpoint ? { endpoint } : {}) };
}

/** The URL as shown in messages: no query (a SAS or a token could be in it), no user info. */
export function describeStoreUrl(url: StoreUrl): string {
  switch (url.scheme) {
    case 'file': return `file://${url.path}`;
    case 's3': return `s3://${url.bucket}/${url.prefix}${url.endpoint ? ` at ${safeEndpoint(url.endpoint)}` : ''}`;
    case 'gs': return `gs://${url.bucket}/${url.prefix}${url.endpoint ? ` at ${safeEndpoint(url.endpoint)}` : ''}`;
    case 'azblob':
      return `azblob://${url.account}/${url.container}/${url.prefix}${url.endpoint ? ` at ${safeEndpoint(url.endpoint)}` : ''}`;
  }
}

/** A root prefix: '' or ending with '/', so that keys join to it as folders. */
function asPrefix(path: string): string {
  return path === '' || path.endsWith('/') ? path : `${path}/`;
}

function optional(value: string | null): string | undefined {
  return value === null || value === '' ? undefined : value;
}

function checkEndpoint(endpoint: string, text: string): void {
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new Error(`store URL ${withoutQuery(text)}: endpoint is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`store URL ${withoutQuery(text)}: endpoint must be http:// or https://`);
  }
}

function safeEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
}

function withoutQuery(text: string): string {
  return text.replace(/[?#].*$/, '').replace(/\/\/[^/@]*@/, '//');
}

/** Maps keys relative to a store's root prefix to full object names and back. */
export class KeyRoot {
  constructor(readonly prefix: string) {}

  full(key: string): string {
    return this.prefix + key;
  }

  relative(name: string): string {
    return name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
  }

  /** A relative startAfter as a full name, or undefined. */
  fullOrUndefined(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.prefix + key;
  }
}
