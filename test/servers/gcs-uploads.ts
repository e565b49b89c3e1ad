/**
 * The two upload protocols of the GCS JSON API: multipart/related (metadata
 * part, then the bytes) and resumable sessions (POST opens a session at a
 * `Location`, PUTs with `Content-Range` fill it, 308 until complete).
 */
import { randomBytes } from 'node:crypto';

/** Splits a `multipart/related` body; throws naming what is malformed. */
export function parseMultipartRelated(contentType: string, body: Buffer): { metadata: Record<string, unknown>; data: Buffer; dataType?: string } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (boundary === undefined) throw new Error('multipart upload without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('multipart upload: the closing boundary is missing');
    parts.push(body.subarray(start + 2, next - 2)); // drop the CRLF after the boundary and before the next
    at = next;
  }
  if (parts.length !== 2) throw new Error(`multipart upload: expected 2 parts (metadata, media), got ${parts.length}`);
  const [metadataPart, mediaPart] = parts.map(splitPart);
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(metadataPart.content.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error('multipart upload: the first part is not JSON metadata');
  }
  return { metadata, data: mediaPart.content, ...(mediaPart.type !== undefined ? { dataType: mediaPart.type } : {}) };
}

function splitPart(part: Buffer): { content: Buffer; type?: string } {
  const end = part.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('multipart upload: a part has no header block');
  const headers = part.subarray(0, end).toString('latin1');
  const type = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();
  return { content: part.subarray(end + 4), ...(type !== undefined ? { type } : {}) };
}

export interface UploadSession {
  readonly bucket: string;
  readonly name: string;
  readonly contentType: string;
  readonly ifGenerationMatch?: string;
  readonly chunks: Buffer[];
  received: number;
}

export type ChunkOutcome =
  | { readonly kind: 'incomplete'; readonly received: number }
  | { readonly kind: 'complete'; readonly data: Buffer }
  | { readonly kind: 'bad'; readonly message: string };

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  open(session: Omit<UploadSession, 'chunks' | 'received'>): string {
    const id = randomBytes(12).toString('hex');
    this.sessions.set(id, { ...session, chunks: [], received: 0 });
    return id;
  }

  get(id: string): UploadSession | undefined {
    return this.sessions.get(id);
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** Takes one PUT: `Content-Range: bytes a-b/total`, `bytes a-b/*`, `bytes *\/total` or `bytes 0-*\/*`. */
  accept(session: UploadSession, contentRange: string | undefined, body: Buffer): ChunkOutcome {
    const range = /^bytes (\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(contentRange?.trim() ?? `bytes 0-*/${body.length}`);
    if (range === null) return { kind: 'bad', message: `bad Content-Range ${contentRange}` };
    const total = range[4] === '*' ? undefined : Number(range[4]);
    if (range[1] !== '*') {
      const first = Number(range[2]);
      if (first !== session.received) {
        return { kind: 'bad', message: `Content-Range starts at ${first}, the session holds ${session.received} bytes` };
      }
      if (range[3] !== '*' && Number(range[3]) - first + 1 !== body.length) {
        return { kind: 'bad', message: `Content-Range ${contentRange} does not match a body of ${body.length} bytes` };
      }
      session.chunks.push(body);
      session.received += body.length;
    }
    const complete = total !== undefined ? session.received === total : range[3] === '*';
    if (total !== undefined && session.received > total) return { kind: 'bad', message: 'more bytes than the total' };
    return complete ? { kind: 'complete', data: Buffer.concat(session.chunks) } : { kind: 'incomplete', received: session.received };
  }
}
