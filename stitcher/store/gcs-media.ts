/**
 * One GCS media download (`GET /storage/v1/b/{bucket}/o/{name}?alt=media`)
 * with Node's fetch: a Range from the byte reached, pinned to a generation,
 * aborted by a signal. The client library's own download stream layers three
 * pipelines per object (and warns about it); this is one request, one stream,
 * and no metadata request first: the generation comes in `x-goog-generation`.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { RangeResponse } from './resumable-read.js';

export interface MediaRequest {
  /** The API's base URL, e.g. https://storage.googleapis.com. */
  readonly base: string;
  readonly bucket: string;
  readonly name: string;
  readonly start: number;
  readonly generation?: string;
  /** The Authorization header (or none), for this URL. */
  readonly authorize: (url: string) => Promise<Headers | undefined>;
  readonly signal: AbortSignal;
}

/** Opens the media stream; throws an error shaped as the client's (code, errors[].reason) on a refusal. */
export async function openGcsMedia(request: MediaRequest): Promise<RangeResponse> {
  const url = new URL(`${request.base.replace(/\/$/, '')}/storage/v1/b/${encodeURIComponent(request.bucket)}/o/${encodeURIComponent(request.name)}`);
  url.searchParams.set('alt', 'media');
  if (request.generation !== undefined) url.searchParams.set('generation', request.generation);
  const headers = new Headers(await request.authorize(url.toString()));
  // The stored bytes as they are: no transcoding, so lengths and ranges count stored bytes.
  headers.set('accept-encoding', 'identity');
  if (request.start > 0) headers.set('range', `bytes=${request.start}-`);
  const response = await fetch(url, { headers, signal: request.signal });
  if (response.status !== 200 && response.status !== 206) throw await refusal(response);
  if (response.body === null) throw new Error('the answer has no body');
  const generation = response.headers.get('x-goog-generation') ?? request.generation;
  return {
    body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
    size: sizeOf(response, request.start),
    ...(generation !== null && generation !== undefined ? { version: generation } : {}),
  };
}

function sizeOf(response: Response, start: number): number {
  const total = response.headers.get('content-range')?.match(/\/(\d+)\s*$/)?.[1];
  if (total !== undefined) return Number(total);
  const length = response.headers.get('content-length') ?? response.headers.get('x-goog-stored-content-length');
  return start + Number(length ?? 0);
}

/** The error of a refused download, shaped like the client library's ApiError (code, errors[].reason). */
async function refusal(response: Response): Promise<Error> {
  let reason: string | undefined;
  try {
    const body = (await response.json()) as { error?: { errors?: { reason?: string }[] } };
    reason = body.error?.errors?.[0]?.reason;
  } catch {
    // not JSON: the status says enough
  }
  return Object.assign(new Error(`HTTP ${response.status}${reason !== undefined ? ` ${reason}` : ''}`), {
    code: response.status,
    errors: reason !== undefined ? [{ reason }] : [],
  });
}
