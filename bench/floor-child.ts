/**
 * The floor of any Node.js stitcher on this machine (bench/peers.ts): reads every
 * object of a bucket folder, checks nothing but runs the CRC-32 the format makes
 * every reader compute over every byte, and writes the bytes out unchanged to
 * one file. No parsing, no flows, no packets: what is left of a stitch when all
 * its own work is taken away. Prints one JSON line.
 */
import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../stitcher/format/crc32.js';

export interface FloorChildResult {
  readonly bytes: number;
  /** The CRC-32 of every byte, so that no step can be left out by the compiler or the kernel. */
  readonly crc: number;
}

const CHUNK_BYTES = 1 << 20;

function objectFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function copyChecked(folder: string, output: string): FloorChildResult {
  const out = openSync(output, 'w');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let bytes = 0;
  let crc = 0;
  try {
    for (const file of objectFiles(folder)) {
      const input = openSync(file, 'r');
      try {
        for (let read = readSync(input, buffer); read > 0; read = readSync(input, buffer)) {
          crc = crc32(buffer.subarray(0, read), crc);
          writeSync(out, buffer, 0, read);
          bytes += read;
        }
      } finally {
        closeSync(input);
      }
    }
  } finally {
    closeSync(out);
  }
  return { bytes, crc };
}

const [folder, output] = process.argv.slice(2);
if (folder === undefined || output === undefined) throw new Error('usage: floor-child <bucket folder> <output file>');
process.stdout.write(`${JSON.stringify(copyChecked(folder, output))}\n`);
