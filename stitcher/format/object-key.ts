/**
 * Object keys: `<root>/<yyyy>/<mm>/<dd>/<hh>/<gateway>/<seq>.ctap|.keys`,
 * the UTC hour the object was started in, a 20-digit zero-padded seq.
 */
import { checkU64 } from './integers.js';
import { isValidGateway } from './layout.js';
import { ObjectKind } from './records.js';

export interface ParsedObjectKey {
  /** The configured prefix, without slashes at its ends ('' when none). */
  readonly root: string;
  /** `<root>/<yyyy>/<mm>/<dd>/<hh>/`, what a reader lists. */
  readonly hourPrefix: string;
  /** The start of the UTC hour. */
  readonly hour: Date;
  readonly gateway: string;
  readonly seq: bigint;
  readonly kind: ObjectKind;
}

const EXTENSIONS: Record<ObjectKind, string> = { [ObjectKind.Traffic]: '.ctap', [ObjectKind.Keys]: '.keys' };
const SEQ_DIGITS = 20;
const SEQ_PATTERN = /^\d{20}$/;
const HOUR_PATTERN = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})$/;

function trimSlashes(root: string): string {
  return root.replace(/^\/+|\/+$/g, '');
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * `<root>/<yyyy>/<mm>/<dd>/<hh>/` for the UTC hour of `date` (no leading
 * slash when root is empty).
 * @throws RangeError for an invalid date or a year outside 0000-9999.
 */
export function hourPrefix(root: string, date: Date): string {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new RangeError(`date ${String(date)} has no 4-digit UTC year`);
  const trimmed = trimSlashes(root);
  const hour = `${String(year).padStart(4, '0')}/${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${two(date.getUTCHours())}/`;
  return trimmed === '' ? hour : `${trimmed}/${hour}`;
}

/** `<hourPrefix>/<gateway>/`, every object of one gateway in one hour. @throws RangeError for an invalid gateway. */
export function gatewayPrefix(root: string, date: Date, gateway: string): string {
  checkGateway(gateway);
  return `${hourPrefix(root, date)}${gateway}/`;
}

/**
 * The key of an object started at `createdNs` (ns since the epoch).
 * @throws RangeError for an invalid gateway, a seq outside u64, or a time outside years 0000-9999.
 */
export function objectKey(root: string, kind: ObjectKind, gateway: string, seq: bigint, createdNs: bigint): string {
  const extension = EXTENSIONS[kind];
  if (extension === undefined) throw new RangeError(`object kind ${String(kind)} is neither 1 (traffic) nor 2 (keys)`);
  checkU64(seq, 'seq');
  checkU64(createdNs, 'created_ns');
  const date = new Date(Number(createdNs / 1_000_000n));
  return `${gatewayPrefix(root, date, gateway)}${seq.toString().padStart(SEQ_DIGITS, '0')}${extension}`;
}

function checkGateway(gateway: string): void {
  if (!isValidGateway(gateway)) throw new RangeError(`gateway ${JSON.stringify(gateway)} is not [a-z0-9][a-z0-9._-]{0,62}`);
}

/** The parts of a CTAP object key, or undefined for any other key. */
export function parseObjectKey(key: string): ParsedObjectKey | undefined {
  const parts = key.split('/');
  if (parts.length < 6) return undefined;
  const [file, gateway] = [parts[parts.length - 1], parts[parts.length - 2]];
  const kind = kindOf(file);
  if (kind === undefined || !isValidGateway(gateway)) return undefined;
  const digits = file.slice(0, -EXTENSIONS[kind].length);
  if (!SEQ_PATTERN.test(digits)) return undefined;
  const seq = BigInt(digits);
  if (seq >= 1n << 64n) return undefined;
  const hour = parseHour(parts.slice(-6, -2).join('/'));
  if (hour === undefined) return undefined;
  const rootParts = parts.slice(0, -6);
  if (rootParts.some((part) => part === '')) return undefined;
  return {
    root: rootParts.join('/'),
    hourPrefix: key.slice(0, key.length - gateway.length - file.length - 1),
    hour,
    gateway,
    seq,
    kind,
  };
}

function kindOf(file: string): ObjectKind | undefined {
  if (file.endsWith(EXTENSIONS[ObjectKind.Traffic])) return ObjectKind.Traffic;
  if (file.endsWith(EXTENSIONS[ObjectKind.Keys])) return ObjectKind.Keys;
  return undefined;
}

/** The start of the hour `yyyy/mm/dd/hh`, only when every field is in range (no 02/30, no hour 24). */
function parseHour(text: string): Date | undefined {
  const match = HOUR_PATTERN.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour] = match.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, 0, 0, 0);
  const same = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour;
  return same ? date : undefined;
}
