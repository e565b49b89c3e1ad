/**
 * Opens a pcap or pcapng output from its URL (see file-url.ts), checking at once
 * that the place exists and can be written, so that a wrong `--output` fails at
 * start-up with one line rather than at the first packet.
 */
import { randomBytes } from 'node:crypto';
import { stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { describeIoError } from './buffered-file.js';
import type { CaptureFile, CaptureFileOptions } from './capture-file.js';
import type { CaptureFormat, FileOutputSpec } from './file-url.js';
import { parseFileOutputUrl } from './file-url.js';
import { createPcapFile } from './pcap.js';
import { createPcapngFile } from './pcapng.js';
import { CaptureOutput, fileTimestamp } from './rotation.js';
import type { FilePlan, FileOutput } from './rotation.js';

export type { FileOutput, FileOutputStats } from './rotation.js';

const creators: Record<CaptureFormat, (path: string, options: CaptureFileOptions) => CaptureFile> = {
  pcap: createPcapFile,
  pcapng: createPcapngFile,
};

/**
 * `pcap:///abs/file.pcap`, `pcapng:///abs/file.pcapng`, `pcap:///abs/dir/`,
 * `pcapng:///abs/dir/?rotate-size=50M&rotate-seconds=60`.
 * Rejects with a one-line `Error` naming the URL: bad URL, missing folder, not writable.
 */
export interface FileOutputOptions extends CaptureFileOptions {
  /** Called with each file once it is complete (see CaptureOutputOptions.onFileClosed). */
  readonly onFileClosed?: (path: string) => Promise<void>;
}

export async function openFileOutput(url: string, options: FileOutputOptions = {}): Promise<FileOutput> {
  const spec = parseFileOutputUrl(url);
  const folder = spec.folder ? spec.path : dirname(spec.path);
  await checkFolder(url, folder, spec.folder ? 'folder' : 'parent folder');
  if (!spec.folder) await checkNotFolder(url, spec.path);
  const create = creators[spec.format];
  const output = new CaptureOutput({
    description: url,
    plan: filePlan(spec),
    // Rotated files are many and named by time: a restart re-reading the same objects must not truncate one.
    createFile: (path) => create(path, spec.rotate ? { ...options, exclusive: true } : options),
    secrets: spec.format === 'pcapng',
    ...(options.onFileClosed !== undefined ? { onFileClosed: options.onFileClosed } : {}),
  });
  try {
    if (spec.rotate) await probeWritable(folder);
    else await output.openFirst(BigInt(Date.now()) * 1_000_000n);
  } catch (error) {
    await output.close().catch(() => undefined);
    throw new Error(`output ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return output;
}

function filePlan(spec: FileOutputSpec): FilePlan {
  const limits = { maxBytes: spec.rotateBytes, maxSeconds: spec.rotateSeconds };
  if (!spec.rotate) return { ...limits, pathFor: () => spec.path };
  const extension = spec.folder ? `.${spec.format}` : extname(spec.path);
  const folder = spec.folder ? spec.path : dirname(spec.path);
  const prefix = spec.folder ? 'cloudtap' : basename(spec.path, extension);
  return {
    ...limits,
    pathFor: (firstNs, index) =>
      join(folder, `${prefix}-${fileTimestamp(firstNs)}-${String(index).padStart(6, '0')}${extension}`),
  };
}

async function checkFolder(url: string, folder: string, role: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(folder)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`output ${url}: ${role} ${folder} does not exist`);
    throw new Error(`output ${url}: cannot use ${role} ${folder}: ${describeIoError(error)}`);
  }
  if (!isFolder) throw new Error(`output ${url}: ${role} ${folder} is not a folder`);
}

async function checkNotFolder(url: string, path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory()) {
    throw new Error(`output ${url}: ${path} is a folder (end the URL with / to write rotated files in it)`);
  }
}

/** Creates and removes a file, since permission bits do not tell (root, read-only mounts, ACLs). */
async function probeWritable(folder: string): Promise<void> {
  const probe = join(folder, `.cloudtap-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '');
  } catch (error) {
    throw new Error(`folder ${folder} is not writable: ${describeIoError(error)}`);
  }
  await unlink(probe);
}
