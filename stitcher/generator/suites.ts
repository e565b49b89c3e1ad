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

/** What the servers accept: every suite above. */
export const SERVER_CIPHERS = TLS_SUITES.map((suite) => suite.cipher).join(':');
