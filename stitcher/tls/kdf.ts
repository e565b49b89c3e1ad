/** Key derivation: TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1) and the TLS 1.2 PRF (RFC 5246 5). */
import { createHmac, createSecretKey } from 'node:crypto';

/** HKDF-Expand (RFC 5869 2.3) with `secret` as the PRK. */
export function hkdfExpand(hash: string, secret: Buffer, info: Buffer, length: number): Buffer {
  const key = createSecretKey(secret);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  let produced = 0;
  for (let counter = 1; produced < length; counter++) {
    previous = createHmac(hash, key).update(previous).update(info).update(Buffer.of(counter)).digest();
    blocks.push(previous);
    produced += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function hkdfExpandLabel(hash: string, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.of(length >> 8, length & 0xff, fullLabel.length),
    fullLabel,
    Buffer.of(context.length),
    context,
  ]);
  return hkdfExpand(hash, secret, info, length);
}

export interface TrafficKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** The record key and IV of a TLS 1.3 traffic secret. */
export function tls13TrafficKeys(hash: string, secret: Buffer, keyLength: number): TrafficKeys {
  const empty = Buffer.alloc(0);
  return {
    key: hkdfExpandLabel(hash, secret, 'key', empty, keyLength),
    iv: hkdfExpandLabel(hash, secret, 'iv', empty, 12),
  };
}

/** The next application traffic secret after a KeyUpdate. */
export function tls13NextSecret(hash: string, secret: Buffer): Buffer {
  return hkdfExpandLabel(hash, secret, 'traffic upd', Buffer.alloc(0), secret.length);
}

/** P_hash of the TLS 1.2 PRF: PRF(secret, label, seed) = P_hash(secret, label + seed). */
export function tls12Prf(hash: string, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const key = createSecretKey(secret);
  const blocks: Buffer[] = [];
  let a = labelSeed;
  let produced = 0;
  while (produced < length) {
    a = createHmac(hash, key).update(a).digest();
    const block = createHmac(hash, key).update(a).update(labelSeed).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export interface Tls12KeyBlock {
  readonly clientMacKey: Buffer;
  readonly serverMacKey: Buffer;
  readonly clientKey: Buffer;
  readonly serverKey: Buffer;
  readonly clientIv: Buffer;
  readonly serverIv: Buffer;
}

/** Splits the key block (RFC 5246 6.3): MAC keys, then write keys, then IVs, client before server. */
export function tls12KeyBlock(
  hash: string,
  masterSecret: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
  sizes: { readonly macKey: number; readonly key: number; readonly iv: number },
): Tls12KeyBlock {
  const total = 2 * (sizes.macKey + sizes.key + sizes.iv);
  const block = tls12Prf(hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), total);
  let position = 0;
  const take = (length: number): Buffer => block.subarray(position, (position += length));
  return {
    clientMacKey: take(sizes.macKey),
    serverMacKey: take(sizes.macKey),
    clientKey: take(sizes.key),
    serverKey: take(sizes.key),
    clientIv: take(sizes.iv),
    serverIv: take(sizes.iv),
  };
}
