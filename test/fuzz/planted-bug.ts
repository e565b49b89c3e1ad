/**
 * A fuzz target with a bug no blind search reaches: it throws only on input that
 * starts with "CTAP" and goes on with "-BUG" (one input in 2^64). libFuzzer gets
 * there in seconds: the instrumented string comparisons hand it the bytes to try,
 * and the input that gets past the first check reaches new code, so it keeps that
 * input to build on. The fuzz test that runs this under Jazzer.js fails if
 * coverage or comparison feedback stops reaching libFuzzer.
 */
export function fuzz(data: Buffer): void {
  if (data.toString('latin1', 0, 4) !== 'CTAP') return;
  if (data.toString('latin1', 4, 8) !== '-BUG') return;
  throw new Error('planted bug reached');
}
