/**
 * The `--output` URLs of the file exporters:
 *
 *     pcap:///abs/file.pcap            one file, no rotation
 *     pcapng:///abs/file.pcapng?rotate-size=1G
 *                                      rotated files next to it: file-<time>-<n>.pcapng
 *     pcapng:///abs/dir/               rotated files in dir: cloudtap-<time>-<n>.pcapng
 *     pcapng:///abs/dir/?rotate-size=50M&rotate-seconds=60
 *
 * `rotate-size` takes K, M, G (powers of 1024), default 100M; `rotate-seconds`
 * counts capture time, default 300; 0 turns either limit off.
 */
import { ROTATION_PARAMETERS, type CaptureFormat } from '../../contract/output-url.js';

export type { CaptureFormat };

export interface FileOutputSpec {
  readonly format: CaptureFormat;
  /** The file, or for a folder output the folder (ending in `/`). */
  readonly path: string;
  readonly folder: boolean;
  /** Whether files rotate (always for a folder; for one file when a limit is asked). */
  readonly rotate: boolean;
  /** 0: no size limit. */
  readonly rotateBytes: number;
  /** 0: no time limit. */
  readonly rotateSeconds: number;
}

export const defaultRotateBytes = 100 * 1024 * 1024;
export const defaultRotateSeconds = 300;

const formats: Record<string, CaptureFormat> = { 'pcap:': 'pcap', 'pcapng:': 'pcapng' };
const sizeUnits: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Parses an output URL; throws a one-line `Error` naming the URL and what is wrong. */
export function parseFileOutputUrl(url: string): FileOutputSpec {
  const problem = (what: string): Error => new Error(`output ${url}: ${what}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw problem('not a URL (expected pcap:///abs/file.pcap or pcapng:///abs/dir/)');
  }
  const format = formats[parsed.protocol];
  if (format === undefined) {
    throw problem(`unknown scheme '${parsed.protocol.slice(0, -1)}' (expected pcap or pcapng)`);
  }
  if (parsed.host !== '' || !parsed.pathname.startsWith('/')) {
    throw problem(`the path must be absolute: ${format}:///abs/path (three slashes)`);
  }
  if (parsed.hash !== '') throw problem(`a fragment ('${parsed.hash}') means nothing here`);
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    throw problem('the path has a broken %-escape');
  }
  const folder = path.endsWith('/');
  if (!folder && path.split('/').pop() === '') throw problem('no file name');
  let rotateBytes: number | undefined;
  let rotateSeconds: number | undefined;
  for (const [name, value] of parsed.searchParams) {
    if (name === 'rotate-size') rotateBytes = parseSize(value, problem);
    else if (name === 'rotate-seconds') rotateSeconds = parseSeconds(value, problem);
    else throw problem(`unknown query parameter '${name}' (known: ${ROTATION_PARAMETERS.join(', ')})`);
  }
  const rotate = folder || rotateBytes !== undefined || rotateSeconds !== undefined;
  return {
    format,
    path,
    folder,
    rotate,
    rotateBytes: rotate ? (rotateBytes ?? defaultRotateBytes) : 0,
    rotateSeconds: rotate ? (rotateSeconds ?? defaultRotateSeconds) : 0,
  };
}

function parseSize(value: string, problem: (what: string) => Error): number {
  const match = /^(\d+)([KMG]?)$/i.exec(value);
  if (!match) throw problem(`rotate-size '${value}' is not a size (e.g. 500K, 100M, 2G)`);
  return Number(match[1]) * (sizeUnits[(match[2] as string).toUpperCase()] as number);
}

function parseSeconds(value: string, problem: (what: string) => Error): number {
  if (!/^\d+$/.test(value)) throw problem(`rotate-seconds '${value}' is not a whole number of seconds`);
  return Number(value);
}
