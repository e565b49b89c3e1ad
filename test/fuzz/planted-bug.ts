/**
 * A fuzz target with a bug no blind search reaches in seconds: it throws only on
 * input that starts with the text "CTAP" followed by the 16-bit number 0x1234
 * (one input in 2^48). libFuzzer gets there from what the instrumented comparisons
 * tell it, so the fuzz test that runs this under Jazzer.js fails if coverage and
 * comparison feedback stop reaching libFuzzer.
 */
export function fuzz(data: Buffer): void {
  if (data.length < 6) return;
  if (data.toString('latin1', 0, 4) !== 'CTAP') return;
  if (data.readUInt16LE(4) === 0x1234) throw new Error('planted bug reached');
}
