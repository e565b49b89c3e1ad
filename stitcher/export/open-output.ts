/** Opens an output by its URL scheme: capture files here, wire exports in wire-output.ts. */
import { openFileOutput } from './file-output.js';
import type { PacketSink } from './sink.js';
import { isWireUrl } from './wire-url.js';
import { openWireOutput } from './wire-output.js';

export async function openOutput(url: string): Promise<PacketSink> {
  if (isWireUrl(url)) return openWireOutput(url);
  return openFileOutput(url);
}
