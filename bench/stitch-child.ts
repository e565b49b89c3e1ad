/**
 * One measurement in a fresh process (so peak RSS is its own): the stitcher
 * turning a folder of CTAP objects into a pcap file; the same object bytes
 * copied straight to a file; or the floor under any stitcher on this runtime:
 * the copy plus zlib's CRC-32 over every byte, writing as many bytes as the
 * pcap holds, with no packet work at all. Prints one JSON line.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openFileOutput } from '../stitcher/export/file-output.js';
import { silentLogger } from '../stitcher/pipeline/log.js';
import { stitch } from '../stitcher/pipeline/stitch.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { listAll } from '../stitcher/store/store.js';

export interface ChildResult {
  readonly seconds: number;
  /** Tapped payload bytes (stitch) or object bytes (copy). */
  readonly bytes: number;
  readonly packets: number;
  readonly maxRssBytes: number;
  /** User + system CPU time of the whole process (thread pool included) during the measurement. */
  readonly cpuSeconds: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function measureStitch(bucket: string, output: string): Promise<ChildResult> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const sink = await openFileOutput(`pcap://${output}`);
  const stats = await stitch({ source: new LocalFolderStore(bucket), outputs: [{ sink, options: { url: output, variant: 'original', remap: [] } }], once: true, logger: silentLogger() });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes: stats.flows.exported, packets: stats.packets, maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuSeconds: cpuSince(cpu) };
}

/** `copy`: the object bytes as they are; `floor`: each chunk CRC-checked, and padded so the file ends up `outputBytes` long. */
async function measureCopy(bucket: string, output: string, floorOutputBytes?: number): Promise<ChildResult> {
  const store = new LocalFolderStore(bucket);
  const keys: string[] = [];
  let inputBytes = 0;
  for await (const object of listAll(store, '')) {
    if (!object.key.endsWith('.ctap')) continue;
    keys.push(object.key);
    inputBytes += object.size;
  }
  const padPerByte = floorOutputBytes === undefined ? 0 : Math.max(0, floorOutputBytes / inputBytes - 1);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const out = await open(output, 'w');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const padding = Buffer.alloc(Math.ceil(buffer.length * padPerByte));
  let bytes = 0;
  let crc = 0;
  for (const key of keys) {
    const input = await open(join(bucket, key), 'r');
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      if (floorOutputBytes !== undefined) crc = crc32(buffer.subarray(0, bytesRead), crc);
      await out.write(buffer, 0, bytesRead);
      if (padding.length > 0) await out.write(padding, 0, Math.round(bytesRead * padPerByte));
      bytes += bytesRead;
    }
    await input.close();
  }
  await out.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes, packets: 0, maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuSeconds: cpuSince(cpu) };
}

const [mode, bucket, output, floorOutputBytes] = process.argv.slice(2);
if (bucket === undefined || output === undefined) throw new Error('usage: stitch-child stitch|copy|floor <bucket> <output> [pcap bytes]');
const result = mode === 'stitch'
  ? await measureStitch(bucket, output)
  : await measureCopy(bucket, output, mode === 'floor' ? Number(floorOutputBytes) : undefined);
process.stdout.write(`${JSON.stringify(result)}\n`);
