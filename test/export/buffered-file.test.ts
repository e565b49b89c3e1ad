import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BufferedFile } from '../../stitcher/export/buffered-file.js';
import { seededRandom } from './capture-tools.js';

function append(file: BufferedFile, bytes: Buffer): void {
  const offset = file.reserve(bytes.length);
  bytes.copy(file.buffer, offset);
}

describe('export/buffered-file', () => {
  let folder: string;
  before(async () => { folder = await mkdtemp(join(tmpdir(), 'cloudtap-buffered-')); });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  it('says "wait" past a tiny threshold, drains, and keeps every byte in order', async () => {
    const path = join(folder, 'pressure.bin');
    const file = new BufferedFile(path, { chunkBytes: 64, highWaterBytes: 1 });
    const random = seededRandom(12);
    const pieces: Buffer[] = [];
    let refusals = 0;
    for (let i = 0; i < 500; i++) {
      // Pieces up to twice the chunk size: some need a chunk of their own.
      const piece = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 127) }, () => Math.floor(random() * 256)));
      pieces.push(piece);
      append(file, piece);
      if (!file.writable) {
        refusals += 1;
        await file.drain();
        expect(file.writable, 'writable after drain').to.equal(true);
      }
    }
    await file.close();

    expect(refusals).to.be.greaterThan(10);
    expect(await readFile(path)).to.deep.equal(Buffer.concat(pieces));
    expect(file.size).to.equal(Buffer.concat(pieces).length);
  });

  it('writes a quiet, partly filled chunk out after the flush interval', async () => {
    const path = join(folder, 'quiet.bin');
    const file = new BufferedFile(path, { flushIntervalMs: 10 });
    await file.ready();
    append(file, Buffer.from('a few bytes'));
    let size = 0;
    for (let tries = 0; tries < 200 && size === 0; tries++) {
      await sleep(10);
      size = (await stat(path)).size;
    }
    expect(size).to.equal(11);
    await file.close();
  });

  it('flushed() puts every byte appended so far in the file before it resolves', async () => {
    const path = join(folder, 'flushed.bin');
    const file = new BufferedFile(path, { flushIntervalMs: 0 });
    await file.ready();
    append(file, Buffer.from('checkpointed'));
    expect((await stat(path)).size, 'nothing written before the flush').to.equal(0);
    await file.flushed();
    expect(await readFile(path, 'utf8')).to.equal('checkpointed');
    append(file, Buffer.from(' and more'));
    await file.flushed();
    expect(await readFile(path, 'utf8')).to.equal('checkpointed and more');
    await file.close();
  });

  it('rejects drain and close with the file and the cause when the disk is full', async () => {
    const file = new BufferedFile('/dev/full', { chunkBytes: 4096, highWaterBytes: 1 });
    await file.ready();
    append(file, Buffer.alloc(3000));
    append(file, Buffer.alloc(3000)); // the first chunk goes to the disk
    expect(file.writable).to.equal(false);
    let drained: unknown;
    await file.drain().catch((error: unknown) => { drained = error; });
    expect(String(drained)).to.equal('Error: cannot write /dev/full at byte 0: ENOSPC: no space left on device');
    let closed: unknown;
    await file.close().catch((error: unknown) => { closed = error; });
    expect(closed).to.equal(drained);
  });
});
