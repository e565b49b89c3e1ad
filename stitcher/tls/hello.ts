/** ClientHello and ServerHello (RFC 8446 4.1.2, 4.1.3; RFC 5246 7.4.1). */

export const enum ExtensionType {
  ServerName = 0,
  Alpn = 16,
  EncryptThenMac = 22,
  ExtendedMasterSecret = 23,
  SessionTicket = 35,
  PreSharedKey = 41,
  EarlyData = 42,
  SupportedVersions = 43,
  KeyShare = 51,
}

export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

export interface ClientHello {
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuites: readonly number[];
  /** From supported_versions, else the legacy version alone. */
  readonly versions: readonly number[];
  readonly serverName?: string;
  readonly alpn: readonly string[];
  /** The client sends 0-RTT data after this ClientHello (TLS 1.3 early_data). */
  readonly offersEarlyData: boolean;
  readonly extensions: ReadonlySet<number>;
}

export interface ServerHello {
  readonly random: Buffer;
  readonly sessionId: Buffer;
  /** The negotiated version: supported_versions when present, else the legacy version. */
  readonly version: number;
  readonly cipherSuite: number;
  /** A TLS 1.3 HelloRetryRequest (the special random): another ServerHello follows. */
  readonly isHelloRetryRequest: boolean;
  readonly encryptThenMac: boolean;
  readonly extendedMasterSecret: boolean;
  readonly extensions: ReadonlySet<number>;
}

/** Where the random ends in the first bytes a client sends: record header (5), handshake header (4), legacy_version (2), random (32). */
export const CLIENT_RANDOM_END = 5 + 4 + 2 + 32;
const RANDOM_LENGTH = 32;

/**
 * The client random (hex) from the first bytes a client sends, whose first record
 * starts with its ClientHello: known once `CLIENT_RANDOM_END` bytes are in, long
 * before the whole ClientHello is (a flow held for its keys is matched by it).
 * undefined when fewer bytes are in.
 */
export function clientHelloRandom(clientBytes: Buffer): string | undefined {
  if (clientBytes.length < CLIENT_RANDOM_END) return undefined;
  return clientBytes.subarray(CLIENT_RANDOM_END - RANDOM_LENGTH, CLIENT_RANDOM_END).toString('hex');
}

const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** Reads a message field by field; errors name the message and the field. */
class Cursor {
  private position = 0;
  constructor(private readonly data: Buffer, private readonly what: string) {}

  get remaining(): number {
    return this.data.length - this.position;
  }

  bytes(length: number, field: string): Buffer {
    if (length > this.remaining) {
      throw new Error(`${this.what}: ${field} needs ${length} bytes at offset ${this.position}, only ${this.remaining} left`);
    }
    const value = this.data.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  u8(field: string): number {
    return this.bytes(1, field)[0];
  }

  u16(field: string): number {
    return this.bytes(2, field).readUInt16BE(0);
  }

  vector8(field: string): Buffer {
    return this.bytes(this.u8(`${field} length`), field);
  }

  vector16(field: string): Buffer {
    return this.bytes(this.u16(`${field} length`), field);
  }
}

function readExtensions(cursor: Cursor, what: string): Map<number, Buffer> {
  const extensions = new Map<number, Buffer>();
  if (cursor.remaining === 0) return extensions;
  const block = new Cursor(cursor.vector16('extensions'), what);
  while (block.remaining > 0) {
    const type = block.u16('extension type');
    extensions.set(type, block.vector16(`extension ${type}`));
  }
  return extensions;
}

/** Parses a ClientHello body (without the 4-byte handshake header). */
export function parseClientHello(body: Buffer): ClientHello {
  const what = 'ClientHello';
  const cursor = new Cursor(body, what);
  const legacyVersion = cursor.u16('legacy_version');
  const random = Buffer.from(cursor.bytes(32, 'random'));
  const sessionId = Buffer.from(cursor.vector8('legacy_session_id'));
  const suites = cursor.vector16('cipher_suites');
  const cipherSuites: number[] = [];
  for (let i = 0; i + 1 < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  cursor.vector8('legacy_compression_methods');
  const extensions = readExtensions(cursor, what);
  const versionsExt = extensions.get(ExtensionType.SupportedVersions);
  return {
    random,
    sessionId,
    cipherSuites,
    versions: versionsExt ? readVersionList(versionsExt) : [legacyVersion],
    serverName: readServerName(extensions.get(ExtensionType.ServerName)),
    alpn: readAlpn(extensions.get(ExtensionType.Alpn)),
    offersEarlyData: extensions.has(ExtensionType.EarlyData),
    extensions: new Set(extensions.keys()),
  };
}

/** Parses a ServerHello or HelloRetryRequest body. */
export function parseServerHello(body: Buffer): ServerHello {
  const what = 'ServerHello';
  const cursor = new Cursor(body, what);
  const legacyVersion = cursor.u16('legacy_version');
  const random = Buffer.from(cursor.bytes(32, 'random'));
  const sessionId = Buffer.from(cursor.vector8('legacy_session_id'));
  const cipherSuite = cursor.u16('cipher_suite');
  cursor.u8('legacy_compression_method');
  const extensions = readExtensions(cursor, what);
  const selected = extensions.get(ExtensionType.SupportedVersions);
  if (selected !== undefined && selected.length !== 2) throw new Error(`${what}: supported_versions is ${selected.length} bytes, expected 2`);
  return {
    random,
    sessionId,
    version: selected ? selected.readUInt16BE(0) : legacyVersion,
    cipherSuite,
    isHelloRetryRequest: random.equals(HELLO_RETRY_RANDOM),
    encryptThenMac: extensions.has(ExtensionType.EncryptThenMac),
    extendedMasterSecret: extensions.has(ExtensionType.ExtendedMasterSecret),
    extensions: new Set(extensions.keys()),
  };
}

function readVersionList(data: Buffer): number[] {
  const list = new Cursor(data, 'ClientHello supported_versions').vector8('versions');
  const versions: number[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) versions.push(list.readUInt16BE(i));
  return versions;
}

function readServerName(data: Buffer | undefined): string | undefined {
  if (data === undefined) return undefined;
  const list = new Cursor(new Cursor(data, 'server_name').vector16('server_name_list'), 'server_name');
  while (list.remaining > 0) {
    const type = list.u8('name_type');
    const name = list.vector16('host_name');
    if (type === 0) return name.toString('latin1');
  }
  return undefined;
}

function readAlpn(data: Buffer | undefined): string[] {
  if (data === undefined) return [];
  const list = new Cursor(new Cursor(data, 'ALPN').vector16('protocol_name_list'), 'ALPN');
  const protocols: string[] = [];
  while (list.remaining > 0) protocols.push(list.vector8('protocol_name').toString('latin1'));
  return protocols;
}
