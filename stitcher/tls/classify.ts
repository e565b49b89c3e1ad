/**
 * Is a flow TLS? Decided from its first bytes: a TLS flow starts with a
 * handshake record holding a ClientHello at client-to-server offset 0. When the
 * client's start is missing, a ServerHello at the server's offset 0 still says TLS
 * (then nothing can be decrypted: no client random).
 */
import { Direction } from '../format/records.js';
import type { FlowEvent } from '../flow/events.js';

export type FlowKind = 'tls' | 'tls-without-client-hello' | 'plain' | 'unknown';

/** Enough for the record header and the handshake type. */
const PREFIX = 6;

/** Looks at the events buffered so far (in order); 'unknown' asks for more. */
/**
 * Events a flow may show before it is taken as undecidable (plain): a ClientHello
 * is in the first few, and every further event would be looked at again (a flow
 * of nothing but holes, say, never decides).
 */
export const MAX_CLASSIFY_EVENTS = 64;

export function classifyFlow(events: readonly FlowEvent[]): FlowKind {
  const client = streamStart(events, Direction.ClientToServer);
  if (client === 'hole') {
    const server = streamStart(events, Direction.ServerToClient);
    if (server === 'hole') return 'plain';
    if (server === undefined || server.length < PREFIX) return 'unknown';
    return looksLikeHello(server, 2) ? 'tls-without-client-hello' : 'plain';
  }
  if (client === undefined || client.length < PREFIX) {
    // A server that speaks first is not answering a ClientHello.
    const server = streamStart(events, Direction.ServerToClient);
    if (client === undefined && server !== undefined && server !== 'hole' && server.length > 0 && !looksLikeHello(server, 2)) return 'plain';
    return 'unknown';
  }
  return looksLikeHello(client, 1) ? 'tls' : 'plain';
}

/** The first bytes of a direction (up to PREFIX), 'hole' when it starts with missing bytes. */
function streamStart(events: readonly FlowEvent[], dir: Direction): Buffer | 'hole' | undefined {
  const pieces: Buffer[] = [];
  let length = 0;
  for (const event of events) {
    if (event.kind === 'close' || event.dir !== dir) continue;
    if (event.kind === 'hole') {
      if (length === 0 && event.offset === 0n) return 'hole';
      break;
    }
    if (event.offset !== BigInt(length)) break;
    pieces.push(event.payload);
    length += event.payload.length;
    if (length >= PREFIX) break;
  }
  return pieces.length === 0 ? undefined : Buffer.concat(pieces);
}

/** A handshake record header (TLS 1.0 .. 1.3 record versions) followed by a message of the given type. */
function looksLikeHello(bytes: Buffer, handshakeType: number): boolean {
  if (bytes.length < PREFIX) return bytes[0] === 0x16 && (bytes.length < 2 || bytes[1] === 3);
  return bytes[0] === 0x16 && bytes[1] === 3 && bytes[2] <= 4 && bytes[5] === handshakeType;
}
