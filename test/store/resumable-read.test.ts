/**
 * A read that breaks (an error, a body that ends short, a stall) resumes from
 * the byte reached, pinned to the version first read: every byte once, in order.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { resumableRead, type RangeOpener } from '../../stitcher/store/resumable-read.js';

const CHUNK = 16 * 1024;

type Script = { readonly kind: 'error' | 'short' | 'stall' | 'whole'; readonly after?: number };

/** A fake store: serves `data` from `start`, spoiling each response as the script says. */
function scriptedOpener(data: Buffer, script: Script[], calls: { start: number; version?: string }[]): RangeOpener {
  return async (start, version) => {
    calls.push({ start, ...(version !== undefined ? { version } : {}) });
    const step = script[calls.length - 1] ?? { kind: 'whole' };
    const end = step.kind === 'whole' ? data.length : Math.min(data.length, start + (step.after ?? 0));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let at = start; at < end; at += CHUNK) yield data.subarray(at, Math.min(end, at + CHUNK));
      if (step.kind === 'error') throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      if (step.kind === 'stall') await new Promise(() => undefined);
    }
    return { body: Readable.from(chunks()), size: data.length, version: 'v1' };
  };
}

const wrap = (key: string) => (error: unknown): Error =>
  new Error(`while reading object ${key}: ${(error as { code?: string }).code ?? String(error)}`);

describe('resumable read', () => {
  it('resumes after an error, a short body and a stall, without losing or repeating a byte', async () => {
    const data = randomBytes(40 * CHUNK + 123);
    const calls: { start: number; version?: string }[] = [];
    const opener = scriptedOpener(data, [
      { kind: 'error', after: 5 * CHUNK }, { kind: 'short', after: 3 * CHUNK }, { kind: 'stall', after: CHUNK },
    ], calls);
    const read = await buffer(await resumableRead(opener, { baseDelayMs: 1, idleTimeoutMs: 50 }, wrap('k')));
    expect(read).to.deep.equal(data);
    expect(calls).to.deep.equal([
      { start: 0 }, { start: 5 * CHUNK, version: 'v1' }, { start: 8 * CHUNK, version: 'v1' }, { start: 9 * CHUNK, version: 'v1' },
    ]);
  });

  it('rejects with the wrapped error when the object is missing', async () => {
    const opener: RangeOpener = async () => {
      throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    };
    const failure = await resumableRead(opener, {}, wrap('2026/x.ctap')).then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).to.contain('2026/x.ctap').and.to.contain('NoSuchKey');
  });

  it('fails, not mixes bytes, when the object changed between ranges', async () => {
    const data = randomBytes(10 * CHUNK);
    let calls = 0;
    const opener: RangeOpener = async (start) => {
      calls++;
      if (calls > 1) throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      async function* half(): AsyncGenerator<Buffer> {
        yield data.subarray(start, 2 * CHUNK);
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      }
      return { body: Readable.from(half()), size: data.length, version: 'etag-1' };
    };
    const stream = await resumableRead(opener, { baseDelayMs: 1 }, wrap('k'));
    const failure = await buffer(stream).catch((error: unknown) => error as Error);
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.contain('PreconditionFailed');
  });

  it('does not count time the consumer holds a chunk as a stall', async () => {
    const data = randomBytes(24 * CHUNK); // more chunks than the stream buffers (16), so the reader must wait
    const calls: { start: number }[] = [];
    const stream = await resumableRead(scriptedOpener(data, [], calls), { idleTimeoutMs: 10, baseDelayMs: 1 }, wrap('k'));
    const parts: Buffer[] = [];
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      await sleep(25); // a slow consumer: backpressure, not a stalled store
    }
    expect(Buffer.concat(parts)).to.deep.equal(data);
    expect(parts.length, 'the consumer held chunks while more were pending').to.be.greaterThan(2);
    expect(calls.length).to.equal(1);
  });

  it('gives up after maxAttempts failures in a row', async () => {
    const data = randomBytes(4 * CHUNK);
    const calls: { start: number }[] = [];
    const script: Script[] = Array.from({ length: 10 }, () => ({ kind: 'error', after: 0 }));
    const stream = await resumableRead(scriptedOpener(data, script, calls), { maxAttempts: 3, baseDelayMs: 1 }, wrap('k'))
      .catch((error: unknown) => error as Error);
    // The first response had no byte: the stream is handed out, and it fails when read.
    const failure = stream instanceof Error ? stream : await buffer(stream).catch((error: unknown) => error as Error);
    expect((failure as Error).message).to.contain('ECONNRESET');
    expect(calls.length).to.equal(3);
  });
});
