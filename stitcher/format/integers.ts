/** Range checks for the writer, so that a bad field is named instead of Node's generic RangeError. */

const U64_MAX = (1n << 64n) - 1n;

export function checkU64(value: bigint, field: string): void {
  if (value < 0n || value > U64_MAX) throw new RangeError(`${field} ${value} does not fit an unsigned 64-bit integer`);
}

export function checkUnsigned(value: number, bits: 8 | 16 | 32, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${field} ${value} does not fit an unsigned ${bits}-bit integer`);
  }
}

export function checkLength(bytes: Buffer, lengths: readonly number[], field: string): void {
  if (!lengths.includes(bytes.length)) {
    throw new RangeError(`${field} is ${bytes.length} bytes, expected ${lengths.join(' or ')}`);
  }
}
