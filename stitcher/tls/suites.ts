/** The cipher suites the decryptor knows, by IANA code point. */

export type BulkKind = 'gcm' | 'ccm' | 'chacha' | 'cbc';
export type HashName = 'sha1' | 'sha256' | 'sha384';

export interface CipherSuite {
  readonly id: number;
  /** IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. */
  readonly name: string;
  /** 0x0303 (TLS 1.2 suites, also valid for 1.0/1.1 CBC) or 0x0304. */
  readonly version: 0x0303 | 0x0304;
  readonly kind: BulkKind;
  /** The node:crypto cipher name. */
  readonly cipher: string;
  readonly keyLength: number;
  /** AEAD tag length (0 for CBC). */
  readonly tagLength: number;
  /** CBC only: the record MAC hash. */
  readonly macHash?: HashName;
  /** The hash of the PRF (TLS 1.2) or HKDF (TLS 1.3). */
  readonly hash: 'sha256' | 'sha384';
}

const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48 };

export function hashLength(hash: HashName): number {
  return HASH_LENGTH[hash];
}

function tls13(id: number, name: string, kind: BulkKind, cipher: string, keyLength: number, tagLength: number, hash: 'sha256' | 'sha384'): CipherSuite {
  return { id, name, version: 0x0304, kind, cipher, keyLength, tagLength, hash };
}

/** A TLS 1.2 suite from its IANA name: the name says the bulk cipher, MAC and PRF hash. */
function tls12(id: number, name: string): CipherSuite {
  const bits = name.includes('AES_256') || name.includes('CHACHA20') ? 256 : 128;
  const keyLength = bits / 8;
  const hash = name.endsWith('SHA384') ? 'sha384' : 'sha256';
  if (name.includes('CHACHA20')) return { id, name, version: 0x0303, kind: 'chacha', cipher: 'chacha20-poly1305', keyLength, tagLength: 16, hash };
  if (name.includes('GCM')) return { id, name, version: 0x0303, kind: 'gcm', cipher: `aes-${bits}-gcm`, keyLength, tagLength: 16, hash };
  if (name.includes('CCM')) return { id, name, version: 0x0303, kind: 'ccm', cipher: `aes-${bits}-ccm`, keyLength, tagLength: name.endsWith('CCM_8') ? 8 : 16, hash };
  const macHash: HashName = name.endsWith('SHA384') ? 'sha384' : name.endsWith('SHA256') ? 'sha256' : 'sha1';
  return { id, name, version: 0x0303, kind: 'cbc', cipher: `aes-${bits}-cbc`, keyLength, tagLength: 0, macHash, hash };
}

const SUITES: readonly CipherSuite[] = [
  tls13(0x1301, 'TLS_AES_128_GCM_SHA256', 'gcm', 'aes-128-gcm', 16, 16, 'sha256'),
  tls13(0x1302, 'TLS_AES_256_GCM_SHA384', 'gcm', 'aes-256-gcm', 32, 16, 'sha384'),
  tls13(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha', 'chacha20-poly1305', 32, 16, 'sha256'),
  tls13(0x1304, 'TLS_AES_128_CCM_SHA256', 'ccm', 'aes-128-ccm', 16, 16, 'sha256'),
  tls13(0x1305, 'TLS_AES_128_CCM_8_SHA256', 'ccm', 'aes-128-ccm', 16, 8, 'sha256'),
  ...([
    [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
    [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
    [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
    [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
    [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
    [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256'],
    [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256'],
    [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'],
    [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
    [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
    [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
    [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
    [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
    [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
    [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
    [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
    [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
    [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'],
    [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
    [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
    [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
    [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
    [0xc09c, 'TLS_RSA_WITH_AES_128_CCM'],
    [0xc09d, 'TLS_RSA_WITH_AES_256_CCM'],
    [0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM'],
    [0xc0ad, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM'],
    [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
    [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
    [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  ] as const).map(([id, name]) => tls12(id, name)),
];

const BY_ID = new Map(SUITES.map((suite) => [suite.id, suite]));

/** The suite with this code point, or undefined when the decryptor does not support it. */
export function cipherSuite(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}

/** For reports: the IANA name, or the code point in hex. */
export function suiteName(id: number): string {
  return BY_ID.get(id)?.name ?? `0x${id.toString(16).padStart(4, '0')}`;
}

export function versionName(version: number): string {
  switch (version) {
    case 0x0301: return 'TLS 1.0';
    case 0x0302: return 'TLS 1.1';
    case 0x0303: return 'TLS 1.2';
    case 0x0304: return 'TLS 1.3';
    default: return `0x${version.toString(16).padStart(4, '0')}`;
  }
}
