/** What a decoding step gives back: a value, or the problem that stopped it (never an exception). */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failure<T>(problem: string): Outcome<T> {
  return { ok: false, problem };
}

export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Bytes that were expected to be a magic, shown printable when they are. */
export function showMagic(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return /^[\x20-\x7e]*$/.test(text) ? `"${text}"` : `0x${bytes.toString('hex')}`;
}
