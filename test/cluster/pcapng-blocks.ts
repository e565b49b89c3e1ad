/**
 * A pcapng file cut off by SIGKILL may end inside a block: keeps the whole
 * blocks (as a reader after a crash would), so mergecap takes the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Writes the whole blocks of `from` to `to` and returns `to`. */
export function wholeBlocks(from: string, to: string): string {
  const bytes = readFileSync(from);
  let at = 0;
  // Every block: type (4), total length (4), body, total length again; the section header sets the byte order.
  const little = bytes.length >= 12 && bytes.readUInt32LE(8) === 0x1a2b3c4d;
  while (at + 12 <= bytes.length) {
    const length = little ? bytes.readUInt32LE(at + 4) : bytes.readUInt32BE(at + 4);
    if (length < 12 || at + length > bytes.length) break;
    at += length;
  }
  writeFileSync(to, bytes.subarray(0, at));
  return to;
}
