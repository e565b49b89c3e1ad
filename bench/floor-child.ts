/**
 * The floors of any Node.js stitcher on this machine (bench/peers.ts). Reads every
 * object of a bucket folder and runs the CRC-32 the format makes every reader
 * compute over every byte; then
 * - `copy`: writes the bytes out unchanged to one file. No parsing, no flows, no
 *   packets: what is left of a stitch when all its own work is taken away.
 * - `frames`: cuts the bytes into full-sized TCP segments and writes them as pcap
 *   frames with the stitcher's own frame path (TcpPath.writeFrame into the pcap
 *   writer's buffer: headers, payload copy, checksums). No parsing, no flows, fewer
 *   and larger packets than a stitch of the same bytes: the least a stitcher that
 *   synthesises packets pays on top of the `copy` floor.
 * Prints one JSON line.
 */
import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createPcapFile } from '../stitcher/export/pcap.js';
import { crc32 } from '../stitcher/format/crc32.js';
import { TcpPath } from '../stitcher/packet/tcp-frame.js';
import { TcpFlags, type TcpFields } from '../stitcher/packet/tcp.js';

export type FloorMode = 'copy' | 'frames';

export interface FloorChildResult {
  readonly bytes: number;
  /** The CRC-32 of every byte, so that no step can be left out by the compiler or the kernel. */
  readonly crc: number;
  /** Frames written (`frames`), 0 for `copy`. */
  readonly frames: number;
  /** Seconds of the work itself, from the first read to the file closed (start-up left out). */
  readonly seconds: number;
}

const CHUNK_BYTES = 1 << 20;
/** An Ethernet MSS: the largest segment a stitch of tapped traffic writes. */
const SEGMENT_BYTES = 1448;

function objectFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Calls `take` with every chunk of every object, CRC-checked. */
async function readChecked(folder: string, take: (chunk: Buffer) => void | Promise<void>): Promise<{ bytes: number; crc: number }> {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let bytes = 0;
  let crc = 0;
  for (const file of objectFiles(folder)) {
    const input = openSync(file, 'r');
    try {
      for (let read = readSync(input, buffer); read > 0; read = readSync(input, buffer)) {
        crc = crc32(buffer.subarray(0, read), crc);
        await take(buffer.subarray(0, read));
        bytes += read;
      }
    } finally {
      closeSync(input);
    }
  }
  return { bytes, crc };
}

async function copyChecked(folder: string, output: string): Promise<Omit<FloorChildResult, 'seconds'>> {
  const out = openSync(output, 'w');
  try {
    return { ...await readChecked(folder, (chunk) => { writeSync(out, chunk); }), frames: 0 };
  } finally {
    closeSync(out);
  }
}

async function framesChecked(folder: string, output: string): Promise<Omit<FloorChildResult, 'seconds'>> {
  const pcap = createPcapFile(output);
  await pcap.ready();
  const path = new TcpPath({
    ipVersion: 4, sourceMac: Buffer.alloc(6, 2), destinationMac: Buffer.alloc(6, 4),
    sourceIp: Buffer.from([10, 0, 0, 1]), destinationIp: Buffer.from([10, 0, 0, 2]),
  });
  let seq = 1;
  let tsNs = 1_700_000_000_000_000_000n;
  let frames = 0;
  const result = await readChecked(folder, async (chunk) => {
    for (let start = 0; start < chunk.length; start += SEGMENT_BYTES) {
      const end = Math.min(chunk.length, start + SEGMENT_BYTES);
      const tcp: TcpFields = { sourcePort: 443, destinationPort: 50000, seq, ack: 1, flags: TcpFlags.ACK, window: 512 };
      const at = pcap.reserveFrame(tsNs, path.headerLength(tcp) + end - start);
      path.writeFrame(pcap.frameBuffer, at, tcp, chunk, start, end);
      seq = (seq + end - start) >>> 0;
      tsNs += 1000n;
      frames++;
    }
    if (!pcap.writable) await pcap.drain();
  });
  await pcap.close();
  return { ...result, frames };
}

const [mode, folder, output] = process.argv.slice(2);
if ((mode !== 'copy' && mode !== 'frames') || folder === undefined || output === undefined) {
  throw new Error('usage: floor-child copy|frames <bucket folder> <output file>');
}
const started = process.hrtime.bigint();
const result = mode === 'copy' ? await copyChecked(folder, output) : await framesChecked(folder, output);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ ...result, seconds })}\n`);
