/**
 * Handshake messages out of the handshake content of one direction: a message
 * may span records and a record may hold several messages.
 */

export const enum HandshakeType {
  ClientHello = 1,
  ServerHello = 2,
  NewSessionTicket = 4,
  EndOfEarlyData = 5,
  EncryptedExtensions = 8,
  Certificate = 11,
  ServerKeyExchange = 12,
  CertificateRequest = 13,
  ServerHelloDone = 14,
  CertificateVerify = 15,
  ClientKeyExchange = 16,
  Finished = 20,
  KeyUpdate = 24,
}

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Buffer;
}

/** Bigger than any certificate chain we expect; guards memory against garbage. */
const MAX_HANDSHAKE_MESSAGE = 1 << 20;

export class HandshakeReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds handshake content and returns the messages it completes. */
  push(fragment: Buffer): HandshakeMessage[] {
    let data = this.pending.length === 0 ? fragment : Buffer.concat([this.pending, fragment]);
    const messages: HandshakeMessage[] = [];
    while (data.length >= 4) {
      const length = data.readUIntBE(1, 3);
      if (length > MAX_HANDSHAKE_MESSAGE) throw new Error(`handshake message of type ${data[0]} claims ${length} bytes`);
      if (data.length < 4 + length) break;
      // Copy: the fragment is a view the caller may not keep.
      messages.push({ type: data[0], body: Buffer.from(data.subarray(4, 4 + length)) });
      data = data.subarray(4 + length);
    }
    this.pending = Buffer.from(data);
    return messages;
  }

  /** True while part of a message is waiting for the rest. */
  get midMessage(): boolean {
    return this.pending.length > 0;
  }
}
