/** From logged secrets to record decrypters, per TLS version. */
import type { ClientHello, ServerHello } from './hello.js';
import { tls12KeyBlock, tls13NextSecret, tls13TrafficKeys } from './kdf.js';
import { Tls12AeadRecordDecrypter, Tls12CbcRecordDecrypter, Tls13RecordDecrypter } from './record-cipher.js';
import type { RecordDecrypter } from './record-cipher.js';
import type { CipherSuite } from './suites.js';
import { hashLength } from './suites.js';

/** TLS 1.2: the client's and the server's decrypters from the master secret (CLIENT_RANDOM). */
export function createDecrypters12(
  suite: CipherSuite,
  masterSecret: Buffer,
  clientHello: ClientHello,
  serverHello: ServerHello,
): [RecordDecrypter, RecordDecrypter] {
  const cbc = suite.kind === 'cbc';
  const sizes = {
    macKey: cbc ? hashLength(suite.macHash ?? 'sha1') : 0,
    key: suite.keyLength,
    // CBC carries an explicit IV per record; GCM and CCM a 4-byte salt; ChaCha20 a 12-byte IV.
    iv: cbc ? 0 : suite.kind === 'chacha' ? 12 : 4,
  };
  const block = tls12KeyBlock(suite.hash, masterSecret, clientHello.random, serverHello.random, sizes);
  if (cbc) {
    return [
      new Tls12CbcRecordDecrypter(suite, block.clientKey, block.clientMacKey, serverHello.encryptThenMac),
      new Tls12CbcRecordDecrypter(suite, block.serverKey, block.serverMacKey, serverHello.encryptThenMac),
    ];
  }
  return [
    new Tls12AeadRecordDecrypter(suite, block.clientKey, block.clientIv),
    new Tls12AeadRecordDecrypter(suite, block.serverKey, block.serverIv),
  ];
}

/** TLS 1.3: the decrypter of one traffic secret. */
export function createDecrypter13(suite: CipherSuite, secret: Buffer): RecordDecrypter {
  const keys = tls13TrafficKeys(suite.hash, secret, suite.keyLength);
  return new Tls13RecordDecrypter(suite, keys.key, keys.iv);
}

/** TLS 1.3: the application traffic secret after a KeyUpdate. */
export function nextSecret13(suite: CipherSuite, secret: Buffer): Buffer {
  return tls13NextSecret(suite.hash, secret);
}
