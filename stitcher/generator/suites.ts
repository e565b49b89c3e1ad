/**
 * The TLS versions and cipher suites the simulated clients choose from
 * (OpenSSL names). Every suite here is one the stitcher must decrypt.
 */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsSuite {
  readonly version: TlsVersion;
  readonly cipher: string;
  /** Allowed for HTTP/2 (RFC 7540 9.2.2 forbids CBC and non-ephemeral key exchange). */
  readonly h2: boolean;
  /**
   * For TLS 1.2 CBC suites: false when the client leaves out the encrypt-then-MAC
   * extension (`openssl s_client -no_etm`), so records are MAC-then-encrypt.
   * @default true (OpenSSL offers it unless told not to)
   */
  readonly encryptThenMac?: boolean;
}

export const TLS_SUITES: readonly TlsSuite[] = [
  { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', h2: true },
  { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', h2: true },
  { version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', h2: true },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', h2: true },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384', h2: true },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-CHACHA20-POLY1305', h2: true },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-SHA256', h2: false },
  { version: 'TLSv1.2', cipher: 'AES256-SHA', h2: false },
  { version: 'TLSv1.2', cipher: 'AES128-GCM-SHA256', h2: false },
];

/**
 * What the `openssl s_client`/`s_server` flows go through, in turn: the three
 * TLS 1.3 suites, and TLS 1.2 with ECDHE and RSA key exchange, GCM, ChaCha20 and
 * CBC with HMAC-SHA1/SHA256/SHA384, CBC with and without encrypt-then-MAC.
 */
export const OPENSSL_SUITES: readonly TlsSuite[] = [
  { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', h2: false },
  { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', h2: false },
  { version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', h2: false },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', h2: false },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384', h2: false },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-CHACHA20-POLY1305', h2: false },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-SHA256', h2: false, encryptThenMac: true },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-SHA', h2: false, encryptThenMac: false },
  { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-SHA384', h2: false, encryptThenMac: false },
  { version: 'TLSv1.2', cipher: 'AES128-GCM-SHA256', h2: false },
  { version: 'TLSv1.2', cipher: 'AES256-SHA', h2: false, encryptThenMac: true },
  { version: 'TLSv1.2', cipher: 'AES128-SHA256', h2: false, encryptThenMac: false },
];

/** Whether a TLS 1.2 suite (OpenSSL name) uses CBC with an HMAC, where encrypt-then-MAC matters. */
export function isCbcSuite(suite: TlsSuite): boolean {
  return suite.version === 'TLSv1.2' && !/GCM|CHACHA20|CCM/.test(suite.cipher);
}

/** What Node's servers accept: every suite of TLS_SUITES. */
export const SERVER_CIPHERS = TLS_SUITES.map((suite) => suite.cipher).join(':');
