/** The state of one direction of a TLS session, and the items it queues. */
import { Direction } from '../format/records.js';
import { HandshakeReader } from './handshake.js';
import type { KeyLogLabel } from './keylog.js';
import type { RecordDecrypter } from './record-cipher.js';
import type { TlsRecord } from './record-reader.js';

/** A record, or a hole (after which the direction cannot be decrypted), in stream order. */
export type QueueItem =
  | { readonly kind: 'record'; readonly record: TlsRecord }
  | { readonly kind: 'hole'; readonly cause: 'gap' | 'missing'; readonly length: bigint; readonly tsNs: bigint };

export type Phase = 'early' | 'handshake' | 'application';

export class DirectionState {
  readonly queue: QueueItem[] = [];
  queuedBytes = 0;
  /** TLS 1.2: a ChangeCipherSpec was seen. */
  encrypted = false;
  phase: Phase = 'handshake';
  /** TLS 1.3: the current traffic secret (after KeyUpdates). */
  secret: Buffer | undefined;
  decrypter: RecordDecrypter | undefined;
  readonly handshake = new HandshakeReader();
  lost = false;
  skippedEarly = 0;
  /** TLS 1.3 KeyUpdates since the first application traffic secret. */
  keyUpdates = 0;
  /** Resumed from a checkpoint: where the direction's keys stand once its secret is found in the key log. */
  resumed: { keyUpdates: number; sequence: bigint | undefined } | undefined;
}

/** The key log label of a direction's TLS 1.3 traffic secret in a phase. */
export function secretLabel(dir: Direction, phase: Phase): KeyLogLabel {
  if (dir === Direction.ClientToServer) {
    if (phase === 'early') return 'CLIENT_EARLY_TRAFFIC_SECRET';
    return phase === 'handshake' ? 'CLIENT_HANDSHAKE_TRAFFIC_SECRET' : 'CLIENT_TRAFFIC_SECRET_0';
  }
  return phase === 'handshake' ? 'SERVER_HANDSHAKE_TRAFFIC_SECRET' : 'SERVER_TRAFFIC_SECRET_0';
}

export function itemTime(item: QueueItem): bigint {
  return item.kind === 'record' ? item.record.tsNs : item.tsNs;
}

export function otherDirection(dir: Direction): Direction {
  return dir === Direction.ClientToServer ? Direction.ServerToClient : Direction.ClientToServer;
}

export function directionName(dir: Direction): string {
  return dir === Direction.ClientToServer ? 'client to server' : 'server to client';
}

export function copyRecord(record: TlsRecord): TlsRecord {
  const bytes = Buffer.concat([record.header, record.body]);
  return { ...record, header: bytes.subarray(0, 5), body: bytes.subarray(5) };
}
