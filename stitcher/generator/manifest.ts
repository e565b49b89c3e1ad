/**
 * The manifest as JSON, for the CLI to write next to the objects and for
 * end-to-end tests to read back. Big integers (seq, times in ns) become
 * decimal strings, since JSON numbers lose precision past 2^53. The
 * manifest never holds key material: keys live only in the key objects.
 */
import type { GenerateResult } from './options.js';

export function manifestToJson(result: GenerateResult): string {
  return `${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`;
}
