/**
 * Record protection, one direction, one key: TLS 1.3 AEAD (RFC 8446 5.2) and
 * TLS 1.2 AEAD (RFC 5288, 6655, 7905) and CBC with HMAC, MAC-then-encrypt or
 * encrypt-then-MAC (RFC 5246 6.2.3.2, RFC 7366). Errors never carry key bytes.
 */
import { createDecipheriv, createHmac, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CipherSuite } from './suites.js';
import { hashLength } from './suites.js';
import type { TlsRecord } from './record-reader.js';

export interface DecryptedRecord {
  /** The real content type (TLS 1.3: from the inner plaintext). */
  readonly type: number;
  readonly content: Buffer;
}

/** A record failed authentication or its padding or length is impossible. */
export class RecordAuthError extends Error {}

export interface RecordDecrypter {
  /** Decrypts the next record of the direction; throws RecordAuthError when it does not authenticate. */
  decrypt(record: TlsRecord): DecryptedRecord;
  /** The sequence number of the next record (set when a session goes on from a checkpoint). */
  sequence: bigint;
}

// Each decrypter moves its sequence number on only when a record authenticates,
// so that a caller may try a record under several keys (TLS 1.3 early data).

const AES_BLOCK = 16;

function sequenceBytes(sequence: bigint): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64BE(sequence);
  return bytes;
}

/** The per-record nonce of TLS 1.3 and of ChaCha20-Poly1305 in TLS 1.2: the IV XOR the sequence number. */
function xorNonce(iv: Buffer, sequence: bigint): Buffer {
  const nonce = Buffer.from(iv);
  const seq = sequenceBytes(sequence);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i] ^= seq[i];
  return nonce;
}

function failure(record: TlsRecord, sequence: bigint, what: string): RecordAuthError {
  return new RecordAuthError(`record at stream offset ${record.offset} (sequence ${sequence}, ${record.body.length} bytes): ${what}`);
}

// Keys are held as KeyObjects: node:crypto turns a Buffer key into one on every
// call, which costs more than decrypting a small record.

function aeadOpen(suite: CipherSuite, key: KeyObject, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  try {
    if (suite.kind === 'ccm') {
      const decipher = createDecipheriv(suite.cipher as 'aes-128-ccm', key, nonce, { authTagLength: suite.tagLength });
      decipher.setAuthTag(tag);
      decipher.setAAD(aad, { plaintextLength: ciphertext.length });
      return decipher.update(ciphertext);
    }
    const decipher = createDecipheriv(suite.cipher as 'aes-128-gcm', key, nonce, { authTagLength: suite.tagLength });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const first = decipher.update(ciphertext);
    const last = decipher.final();
    return last.length === 0 ? first : Buffer.concat([first, last]);
  } catch {
    return undefined;
  }
}

/**
 * What the AEAD decrypters share: one key object, the IV (or salt) and the
 * sequence number, which moves on only when `open` returns a record.
 */
abstract class AeadRecordDecrypter implements RecordDecrypter {
  sequence = 0n;
  protected readonly key: KeyObject;

  constructor(protected readonly suite: CipherSuite, key: Buffer, protected readonly iv: Buffer) {
    this.key = createSecretKey(key);
  }

  decrypt(record: TlsRecord): DecryptedRecord {
    const decrypted = this.open(record, this.sequence);
    this.sequence++;
    return decrypted;
  }

  /** Decrypts `record` as number `sequence`; throws RecordAuthError when it does not authenticate. */
  protected abstract open(record: TlsRecord, sequence: bigint): DecryptedRecord;
}

export class Tls13RecordDecrypter extends AeadRecordDecrypter {
  protected open(record: TlsRecord, sequence: bigint): DecryptedRecord {
    const tagLength = this.suite.tagLength;
    if (record.body.length < tagLength + 1) throw failure(record, sequence, 'shorter than the AEAD tag');
    const ciphertext = record.body.subarray(0, record.body.length - tagLength);
    const tag = record.body.subarray(record.body.length - tagLength);
    const inner = aeadOpen(this.suite, this.key, xorNonce(this.iv, sequence), record.header, ciphertext, tag);
    if (inner === undefined) throw failure(record, sequence, 'authentication failed');
    // TLSInnerPlaintext: content | type | zero padding.
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw failure(record, sequence, 'inner plaintext has no content type');
    return { type: inner[end], content: inner.subarray(0, end) };
  }
}

/** The additional data of TLS 1.2 record protection: seq_num | type | version | length. */
function tls12AdditionalData(sequence: bigint, record: TlsRecord, length: number): Buffer {
  const aad = Buffer.allocUnsafe(13);
  aad.writeBigUInt64BE(sequence, 0);
  aad[8] = record.type;
  aad.writeUInt16BE(record.version, 9);
  aad.writeUInt16BE(length, 11);
  return aad;
}

/** `iv` is the 4-byte salt (GCM, CCM) or the 12-byte IV (ChaCha20-Poly1305). */
export class Tls12AeadRecordDecrypter extends AeadRecordDecrypter {
  protected open(record: TlsRecord, sequence: bigint): DecryptedRecord {
    const explicitLength = this.suite.kind === 'chacha' ? 0 : 8;
    const tagLength = this.suite.tagLength;
    const body = record.body;
    if (body.length < explicitLength + tagLength) throw failure(record, sequence, 'shorter than nonce and tag');
    const nonce = explicitLength === 0
      ? xorNonce(this.iv, sequence)
      : Buffer.concat([this.iv, body.subarray(0, explicitLength)]);
    const ciphertext = body.subarray(explicitLength, body.length - tagLength);
    const aad = tls12AdditionalData(sequence, record, ciphertext.length);
    const content = aeadOpen(this.suite, this.key, nonce, aad, ciphertext, body.subarray(body.length - tagLength));
    if (content === undefined) throw failure(record, sequence, 'authentication failed');
    return { type: record.type, content };
  }
}

export class Tls12CbcRecordDecrypter implements RecordDecrypter {
  sequence = 0n;
  private readonly macLength: number;
  private readonly key: KeyObject;
  private readonly macKey: KeyObject;

  constructor(private readonly suite: CipherSuite, key: Buffer, macKey: Buffer, private readonly encryptThenMac: boolean) {
    this.macLength = hashLength(suite.macHash ?? 'sha1');
    this.key = createSecretKey(key);
    this.macKey = createSecretKey(macKey);
  }

  decrypt(record: TlsRecord): DecryptedRecord {
    const sequence = this.sequence;
    const decrypted = this.encryptThenMac ? this.decryptEtm(record, sequence) : this.decryptMte(record, sequence);
    this.sequence++;
    return decrypted;
  }

  private mac(sequence: bigint, record: TlsRecord, data: Buffer): Buffer {
    return createHmac(this.suite.macHash ?? 'sha1', this.macKey)
      .update(tls12AdditionalData(sequence, record, data.length))
      .update(data)
      .digest();
  }

  /** Decrypts IV | ciphertext and strips the padding; undefined when the padding is impossible. */
  private cbcDecrypt(ivAndCiphertext: Buffer): Buffer | undefined {
    const length = ivAndCiphertext.length;
    if (length < 2 * AES_BLOCK || length % AES_BLOCK !== 0) return undefined;
    const decipher = createDecipheriv(this.suite.cipher, this.key, ivAndCiphertext.subarray(0, AES_BLOCK));
    decipher.setAutoPadding(false);
    const plain = decipher.update(ivAndCiphertext.subarray(AES_BLOCK));
    const padding = plain[plain.length - 1];
    if (padding + 1 > plain.length) return undefined;
    for (let i = plain.length - 1 - padding; i < plain.length; i++) if (plain[i] !== padding) return undefined;
    return plain.subarray(0, plain.length - padding - 1);
  }

  private decryptEtm(record: TlsRecord, sequence: bigint): DecryptedRecord {
    const body = record.body;
    if (body.length < this.macLength + 2 * AES_BLOCK) throw failure(record, sequence, 'too short for IV, block and MAC');
    const protectedPart = body.subarray(0, body.length - this.macLength);
    if (!this.mac(sequence, record, protectedPart).equals(body.subarray(body.length - this.macLength))) {
      throw failure(record, sequence, 'MAC check failed');
    }
    const content = this.cbcDecrypt(protectedPart);
    if (content === undefined) throw failure(record, sequence, 'bad CBC padding');
    return { type: record.type, content };
  }

  private decryptMte(record: TlsRecord, sequence: bigint): DecryptedRecord {
    const plain = this.cbcDecrypt(record.body);
    if (plain === undefined || plain.length < this.macLength) throw failure(record, sequence, 'bad CBC padding or length');
    const content = plain.subarray(0, plain.length - this.macLength);
    if (!this.mac(sequence, record, content).equals(plain.subarray(content.length))) {
      throw failure(record, sequence, 'MAC check failed');
    }
    return { type: record.type, content };
  }
}
