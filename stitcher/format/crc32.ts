/**
 * CRC-32/ISO-HDLC (zlib's, the one docs/ctap-format.md names) over every
 * block, header and end. `@node-rs/crc32` folds with carry-less multiplies
 * (PCLMULQDQ / PMULL), about twice zlib's speed on block-sized buffers; it is
 * an optional dependency with one prebuilt binary per platform, so where that
 * binary is missing (another libc, an install with --omit=optional) the same
 * CRC comes from `zlib.crc32`. CLOUDTAP_CRC32=zlib forces the fallback, for
 * the benchmark's comparison and the tests.
 */
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

export type Crc32 = (data: Uint8Array, initial?: number) => number;

export interface Crc32Choice {
  readonly crc32: Crc32;
  /** Which implementation runs, e.g. "@node-rs/crc32 1.10.8 (SIMD)" or "zlib (@node-rs/crc32 not loaded: ...)". */
  readonly implementation: string;
}

interface NativeModule {
  crc32(input: Uint8Array, initialState?: number | null): number;
}

/** Loads the native CRC through `load` (a require), falling back to zlib on any failure. */
export function chooseCrc32(load: (id: string) => unknown, env: NodeJS.ProcessEnv = process.env): Crc32Choice {
  if (env.CLOUDTAP_CRC32 === 'zlib') return { crc32: zlibCrc32, implementation: 'zlib (CLOUDTAP_CRC32=zlib)' };
  try {
    const native = load('@node-rs/crc32') as NativeModule;
    // A binary for the wrong CPU or libc loads but may answer wrongly: check it on the standard vector.
    if (native.crc32(Buffer.from('123456789')) !== 0xcbf43926) throw new Error('check value 0xcbf43926 not reproduced');
    const version = (load('@node-rs/crc32/package.json') as { version?: string }).version ?? '?';
    const nativeCrc = native.crc32.bind(native);
    return { crc32: (data, initial) => nativeCrc(data, initial), implementation: `@node-rs/crc32 ${version} (SIMD)` };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    return { crc32: zlibCrc32, implementation: `zlib (@node-rs/crc32 not loaded: ${reason})` };
  }
}

const chosen = chooseCrc32(createRequire(import.meta.url));

/** CRC-32 of `data`, continuing from `initial` (0 to start). */
export const crc32: Crc32 = chosen.crc32;
/** Which implementation this process uses (printed by `make bench`). */
export const crc32Implementation: string = chosen.implementation;
