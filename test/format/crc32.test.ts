import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { chooseCrc32, crc32, crc32Implementation } from '../../stitcher/format/crc32.js';

const realRequire = createRequire(import.meta.url);

describe('format: CRC-32 (@node-rs/crc32 with zlib as fallback)', () => {
  it('the native binary loads on this platform (linux x64 glibc), so the SIMD path is what runs here', () => {
    expect(crc32Implementation).to.match(/^@node-rs\/crc32 \d+\.\d+\.\d+ \(SIMD\)$/);
  });

  it('gives zlib\'s CRC on any bytes, from any starting value, including views into a larger buffer (the reader window)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 70_000 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 64 }), (bytes, initial, skip) => {
      const view = bytes.subarray(Math.min(skip, bytes.length));
      expect(crc32(view)).to.equal(zlibCrc32(view));
      expect(crc32(view, initial)).to.equal(zlibCrc32(view, initial));
    }), { numRuns: 200 });
    const window = new Uint8Array(new ArrayBuffer(1 << 17), 100, 65_000).fill(0x5a);
    expect(crc32(window)).to.equal(zlibCrc32(window));
  });

  it('falls back to zlib, saying why, when the binary is missing', () => {
    const missing = (id: string): unknown => {
      throw new Error(`Cannot find module '${id}-linux-x64-gnu'\nRequire stack: ...`);
    };
    const choice = chooseCrc32(missing, {});
    expect(choice.crc32).to.equal(zlibCrc32);
    expect(choice.implementation).to.equal("zlib (@node-rs/crc32 not loaded: Cannot find module '@node-rs/crc32-linux-x64-gnu')");
  });

  it('refuses a binary that answers wrongly, and obeys CLOUDTAP_CRC32=zlib', () => {
    const wrong = (id: string): unknown => (id === '@node-rs/crc32' ? { crc32: () => 0 } : { version: '0.0.0' });
    expect(chooseCrc32(wrong, {}).implementation).to.match(/^zlib \(.*check value 0xcbf43926/);
    expect(chooseCrc32(realRequire, { CLOUDTAP_CRC32: 'zlib' }).implementation).to.equal('zlib (CLOUDTAP_CRC32=zlib)');
    expect(chooseCrc32(realRequire, {}).implementation).to.match(/^@node-rs/);
  });
});
