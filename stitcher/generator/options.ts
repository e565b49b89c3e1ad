/**
 * What generateTraffic takes and returns: the knobs of the simulated
 * gateway and the manifest of what was served and tapped, for tests to
 * compare a stitched capture against.
 */
import type { BlockCodec } from '../format/records.js';
import type { ObjectStore } from '../store/store.js';
import type { TlsVersion } from './suites.js';

export type Protocol = 'http' | 'https' | 'h2';
/** Whose TLS and HTTP code ran both ends of a flow: Node's, or `openssl s_client` and `s_server -HTTP`. */
export type Stack = 'node' | 'openssl';
export type CloseName = 'fin-client' | 'fin-server' | 'rst-client' | 'rst-server';
export type DirectionName = 'c2s' | 's2c';
/** When key objects become visible relative to the traffic objects. */
export type KeysTiming = 'with-traffic' | 'before-traffic' | 'after-traffic';

export interface GenerateProgress {
  readonly flowsDone: number;
  readonly flowsTotal: number;
  readonly tappedBytes: number;
  readonly objectsWritten: number;
}

export interface GenerateOptions {
  /** Where traffic objects (.ctap) go. */
  readonly traffic: ObjectStore;
  /** Where key objects (.keys) go. @default the traffic store */
  readonly keys?: ObjectStore;
  /** Prefix of traffic objects inside `traffic`. @default '' (the store's root) */
  readonly root?: string;
  /** Prefix of key objects inside `keys`. @default the traffic root */
  readonly keyRoot?: string;
  /** How many connections to run (ignored in bulk mode, see totalBytes). */
  readonly flows: number;
  /** How many gateways (`gw-a1`, `gw-a2`, ...) share the flows. @default 2 */
  readonly gateways?: number;
  /**
   * Gateway names are this and a number; another prefix lets a second run write
   * into the same bucket as new gateways (their seqs start again at 0).
   * @default 'gw-a'
   */
  readonly gatewayPrefix?: string;
  /** Every choice repeats for a seed. @default 1 */
  readonly seed?: number | string;
  /** Share of flows over IPv6. @default 0.25 */
  readonly ipv6Share?: number;
  /** Share of flows over TLS (HTTPS or HTTP/2). @default 0.6 */
  readonly httpsShare?: number;
  /** Share of the TLS flows that speak HTTP/2. @default 0.25 */
  readonly h2Share?: number;
  /**
   * Share of the HTTPS (HTTP/1.1) flows run with `openssl s_client` against
   * `openssl s_server -HTTP` (another TLS stack, which splits records its own way),
   * with the client's `-keylogfile` as the flow's keys. Such a flow fetches one
   * object and the server closes it; the flows take the suites of OPENSSL_SUITES
   * in turn. Needs the openssl command line.
   * @default 0
   */
  readonly opensslShare?: number;
  /** A traffic object is finished once its records reach this many bytes. @default 1 MiB (8 MiB in bulk mode) */
  readonly objectBytes?: number;
  /** Largest body (a number), or the exact sizes to choose bodies from (a list). @default 4 MiB */
  readonly bodyBytes?: number | readonly number[];
  /** Most HTTP objects fetched on one connection. @default 3 */
  readonly maxObjectsPerFlow?: number;
  /** Connections in flight at once. @default 8 (4 in bulk mode) */
  readonly concurrency?: number;
  /** Shuffle the records inside each object. @default false */
  readonly shuffle?: boolean;
  /** Share of DATA records written 1 to 3 objects later than tapped (never after their flow's FLOW_CLOSE). @default 0 */
  readonly scatterShare?: number;
  /** DATA chunks left out without a GAP record (whole server-to-client reads, spread over the flows), listed per flow in `dropped`. @default 0 */
  readonly dropChunks?: number;
  /** Share of socket reads written as 2 or 3 DATA records split at other points. @default 0.2 */
  readonly resplitShare?: number;
  /** Share of DATA records written twice (same offset, same bytes). @default 0 */
  readonly duplicateShare?: number;
  /** Share of DATA records followed by a re-send that overlaps the previous one. @default 0 */
  readonly overlapShare?: number;
  /** Objects wait in a window of this size and leave it in random order (0 or 1: in seq order). @default 0 */
  readonly reorderWindow?: number;
  /** Virtual time at the start, ns since the epoch. @default the real time now */
  readonly startNs?: bigint;
  /** Virtual ns per real ns. @default 1 */
  readonly timeScale?: number;
  /** Virtual ns added per tapped byte (moves time deterministically). @default 0 */
  readonly nsPerByte?: number;
  /** Flows (by index) for which the gateway loses bytes: a GAP record instead of DATA. @default [] */
  readonly gapFlows?: readonly number[];
  /** Where a gap starts in the server-to-client stream (at the first read that reaches it). @default 100 */
  readonly gapOffset?: number;
  /** Most bytes one gap loses. @default 300 */
  readonly gapBytes?: number;
  /** TLS flows (by index) whose keys are never written. @default [] */
  readonly withoutKeys?: readonly number[];
  /** @default 'with-traffic' */
  readonly keysTiming?: KeysTiming;
  /** Share of HTTP/1 flows that end with a reset (half by each side). @default 0.1 */
  readonly rstShare?: number;
  /** Share of flows whose FLOW_OPEN carries MSS TLVs. @default 0.5 */
  readonly mssShare?: number;
  /**
   * Bulk mode for benchmarks: run few large transfers (plain HTTP and
   * HTTPS) until about this many body bytes are served; `flows` is ignored.
   */
  readonly totalBytes?: number;
  /** Body size of one bulk transfer. @default 32 MiB */
  readonly bulkBodyBytes?: number;
  /**
   * Bulk mode: every transfer is HTTPS with this suite (an OpenSSL name from
   * TLS_SUITES), instead of alternating plain HTTP and HTTPS.
   * @default none (alternate)
   */
  readonly bulkCipher?: string;
  /** How blocks are compressed. @default deflate (the writer's default); none in bulk mode, so benchmarks spend no time compressing random bytes */
  readonly codec?: BlockCodec;
  /** A flow that takes longer fails the run, naming the flow. @default 120000 */
  readonly flowTimeoutMs?: number;
  readonly onProgress?: (progress: GenerateProgress) => void;
}

export interface ServedObject {
  readonly path: string;
  readonly size: number;
  readonly contentType: string;
  /** SHA-256 (hex) of the body the client received. */
  readonly sha256: string;
}

export interface NegotiatedTls {
  readonly version: TlsVersion;
  /** OpenSSL name. */
  readonly cipher: string;
  /** Present for TLS 1.2 CBC suites of openssl flows: whether records were encrypt-then-MAC. */
  readonly encryptThenMac?: boolean;
}

export interface GapManifest {
  readonly dir: DirectionName;
  readonly offset: number;
  readonly length: number;
}

export interface FlowManifest {
  readonly index: number;
  /** 32 hex characters. */
  readonly flowId: string;
  readonly gateway: string;
  readonly ipVersion: 4 | 6;
  /** As recorded in FLOW_OPEN: `10.1.2.3:50000` or `[fd00::1]:50000`. */
  readonly client: string;
  readonly server: string;
  readonly serverName: string;
  readonly user: string;
  readonly protocol: Protocol;
  readonly stack: Stack;
  readonly tls?: NegotiatedTls;
  readonly objects: readonly ServedObject[];
  readonly bytesC2s: number;
  readonly bytesS2c: number;
  /** SHA-256 (hex) of each whole direction as the relay forwarded it (lost bytes included). */
  readonly sha256C2s: string;
  readonly sha256S2c: string;
  readonly close: CloseName;
  /** True when TLS keys for this flow were written. */
  readonly hasKeys: boolean;
  /** The ClientHello random (hex) of a TLS flow, as the client's key log names it. */
  readonly clientRandom?: string;
  readonly gaps: readonly GapManifest[];
  /** Ranges the gateway left out without a GAP record (see GenerateOptions.dropChunks). */
  readonly dropped: readonly GapManifest[];
}

export interface WrittenObject {
  readonly key: string;
  readonly kind: 'traffic' | 'keys';
  readonly gateway: string;
  readonly seq: bigint;
  readonly createdNs: bigint;
  readonly bytes: number;
  readonly records: number;
}

export interface GenerateResult {
  readonly root: string;
  readonly keyRoot: string;
  readonly gateways: readonly string[];
  readonly flows: readonly FlowManifest[];
  /** Every object in the order its upload finished. */
  readonly objects: readonly WrittenObject[];
  readonly trafficObjects: number;
  readonly keyObjects: number;
  /** Bytes of all objects written. */
  readonly objectBytes: number;
  /** Payload bytes tapped, both directions, all flows. */
  readonly tappedBytes: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
}
