import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { FloorChildResult } from '../../bench/floor-child.js';
import { compiledRoot, nodeBinary } from '../support/paths.js';
import { captureProblems, haveTshark, tsharkFields } from '../support/tshark.js';

const floorChild = join(compiledRoot, 'bench', 'floor-child.js');
const CHUNK_BYTES = 1 << 20;
const SEGMENT_BYTES = 1448;

function runFloor(mode: string, folder: string, output: string): FloorChildResult {
  const stdout = execFileSync(nodeBinary, [floorChild, mode, folder, output], { encoding: 'utf8' });
  return JSON.parse(stdout.trim()) as FloorChildResult;
}

describe('bench: the floors (what a Node stitcher pays before any work of its own)', function () {
  this.timeout(120_000);
  let dir: string;
  let bucket: string;
  /** The objects in the order the floor reads them (sorted paths), and their bytes together. */
  let objects: Buffer[];
  let all: Buffer;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudtap-floor-'));
    bucket = join(dir, 'bucket');
    mkdirSync(join(bucket, 'a', 'gw-1'), { recursive: true });
    mkdirSync(join(bucket, 'b'), { recursive: true });
    // Across the 1 MiB read chunk, one segment's length short of it, empty, and tiny.
    objects = [CHUNK_BYTES + 7, 0, 3 * SEGMENT_BYTES - 1, 5].map((size, i) => Buffer.from(Array.from({ length: size }, (_, at) => (at * 31 + i) & 0xff)));
    ['a/gw-1/1.ctap', 'a/gw-1/2.ctap', 'a/x.ctap', 'b/y.ctap'].forEach((name, i) => writeFileSync(join(bucket, name), objects[i]!));
    all = Buffer.concat(objects);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copy: writes every object byte once, in path order, and CRCs all of them', () => {
    const output = join(dir, 'copy.bin');
    const result = runFloor('copy', bucket, output);
    expect({ bytes: result.bytes, crc: result.crc, frames: result.frames }).to.deep.equal({ bytes: all.length, crc: zlibCrc32(all), frames: 0 });
    expect(readFileSync(output).equals(all), 'the copy differs from the objects').to.equal(true);
  });

  it('frames: the same bytes as full-sized TCP frames whose checksums and payloads tshark accepts', async function () {
    if (!haveTshark()) this.skip();
    const output = join(dir, 'frames.pcap');
    const result = runFloor('frames', bucket, output);
    const segmentsOf = (size: number): number => {
      let count = 0;
      for (let at = 0; at < size; at += CHUNK_BYTES) count += Math.ceil(Math.min(CHUNK_BYTES, size - at) / SEGMENT_BYTES);
      return count;
    };
    const frames = objects.reduce((sum, object) => sum + segmentsOf(object.length), 0);
    expect({ bytes: result.bytes, crc: result.crc, frames: result.frames }).to.deep.equal({ bytes: all.length, crc: zlibCrc32(all), frames });
    expect(await captureProblems(output)).to.deep.equal([]);
    const payloads = await tsharkFields(output, '', ['tcp.payload']);
    expect(payloads).to.have.length(frames);
    expect(Buffer.concat(payloads.map(([hex]) => Buffer.from((hex ?? '').replaceAll(':', ''), 'hex'))).equals(all), 'the frames carry other bytes').to.equal(true);
    expect(statSync(output).size).to.be.above(all.length);
  });
});
