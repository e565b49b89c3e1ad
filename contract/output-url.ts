/**
 * Output URLs (`--output`, the config's `outputs`): built here by the operator,
 * parsed by the stitcher with the parameter lists below, so that a parameter one
 * side writes is one the other side knows.
 *
 *     vxlan://host:4789?vni=N&mtu=1500&rate=100
 *     geneve://host:6081?vni=N&mtu=1500
 *     pcap-over-ip://host:57012?mtu=1500
 *     pcapng:///abs/dir/?rotate-size=100M&rotate-seconds=300
 *     pcapng+s3://bucket/prefix/?region=R&rotate-size=100M
 *
 * and on every one the pipeline's `variant=`, `remap=client:<cidr>`,
 * `remap=server:<cidr>` (one parameter per side) and `keylog=/abs/file`.
 * Capture files have no MTU and no send rate: those are wire parameters only.
 */
import { buildStoreUrl, type StoreLocationSpec } from './store-url.js';

export type Variant = 'original' | 'cleartext' | 'both';
export const VARIANTS: readonly Variant[] = ['original', 'cleartext', 'both'];

export type RemapSide = 'client' | 'server';
export const REMAP_SIDES: readonly RemapSide[] = ['client', 'server'];

export type WireScheme = 'vxlan' | 'geneve' | 'pcap-over-ip';
export type CaptureFormat = 'pcap' | 'pcapng';

/** Parameters the pipeline takes out of any output URL before the exporter sees it. */
export const PIPELINE_PARAMETERS: readonly string[] = ['variant', 'remap', 'keylog'];

/** Parameters of capture files in a folder or a bucket. */
export const ROTATION_PARAMETERS: readonly string[] = ['rotate-size', 'rotate-seconds'];

const wireCommon = ['mtu', 'pace', 'rate', 'queue'];
/** Parameters of each wire exporter (the pipeline's come on top). */
export const WIRE_PARAMETERS: Readonly<Record<WireScheme, readonly string[]>> = {
  vxlan: [...wireCommon, 'vni', 'ports'],
  geneve: [...wireCommon, 'vni', 'ports', 'inner', 'opt'],
  'pcap-over-ip': [...wireCommon, 'listen'],
};

/** A rotation size as the stitcher reads it: bytes, or K, M, G (powers of 1024). */
export const ROTATE_SIZE_PATTERN = /^[0-9]+[KMG]?$/;

/** MTU bounds of the wire exporters. */
export const MIN_MTU = 576;
export const MAX_MTU = 65535;

export interface PipelineOptions {
  /** @default 'original' */
  readonly variant?: Variant;
  readonly remap?: Readonly<Partial<Record<RemapSide, string>>>;
  /** An absolute path for an NSS key log beside the output. */
  readonly keylog?: string;
}

export interface WireOutputSpec extends PipelineOptions {
  readonly kind: 'wire';
  readonly scheme: WireScheme;
  readonly host: string;
  readonly port?: number;
  /** vxlan, geneve only. */
  readonly vni?: number;
  readonly mtu?: number;
  /** Mbit/s. */
  readonly rate?: number;
}

export interface RotationOptions {
  /** ROTATE_SIZE_PATTERN. */
  readonly rotateSize?: string;
  readonly rotateSeconds?: number;
}

export interface FolderOutputSpec extends PipelineOptions, RotationOptions {
  readonly kind: 'folder';
  readonly format: CaptureFormat;
  /** An absolute folder path. */
  readonly folder: string;
}

export interface BucketOutputSpec extends PipelineOptions, RotationOptions {
  readonly kind: 'bucket';
  readonly format: CaptureFormat;
  readonly store: StoreLocationSpec;
}

export type OutputSpec = WireOutputSpec | FolderOutputSpec | BucketOutputSpec;

/**
 * The URL of an output. Values are checked only where the stitcher would refuse
 * them and the caller's schema may not have (a relative folder, a rotation size);
 * @throws Error naming the field at fault
 */
export function buildOutputUrl(spec: OutputSpec): string {
  const query = new URLSearchParams();
  switch (spec.kind) {
    case 'wire': {
      if (spec.vni !== undefined && spec.scheme !== 'pcap-over-ip') query.set('vni', String(spec.vni));
      if (spec.mtu !== undefined) query.set('mtu', String(spec.mtu));
      if (spec.rate !== undefined) query.set('rate', String(spec.rate));
      addPipelineOptions(query, spec);
      return withQuery(`${spec.scheme}://${hostPort(spec.host, spec.port)}`, query);
    }
    case 'folder': {
      if (!spec.folder.startsWith('/')) throw new Error(`output folder '${spec.folder}' is not an absolute path`);
      addRotation(query, spec);
      addPipelineOptions(query, spec);
      const folder = spec.folder.endsWith('/') ? spec.folder : `${spec.folder}/`;
      return withQuery(`${spec.format}://${encodeURI(folder)}`, query);
    }
    case 'bucket': {
      addRotation(query, spec);
      addPipelineOptions(query, spec);
      // The store URL carries its own query (region, endpoint): one query for both.
      const store = new URL(buildStoreUrl(spec.store));
      for (const [key, value] of query) store.searchParams.append(key, value);
      return `${spec.format}+${store.toString()}`;
    }
  }
}

/** `client:100.64.0.0/10`: one `remap=` value. */
export function remapRule(side: RemapSide, cidr: string): string {
  return `${side}:${cidr}`;
}

/**
 * Splits one `remap=` value into its side and CIDR text (the stitcher parses the CIDR).
 * @throws Error `remap <value>: expected client:<cidr> or server:<cidr>`
 */
export function splitRemapRule(value: string): { readonly side: RemapSide; readonly cidr: string } {
  const colon = value.indexOf(':');
  const side = value.slice(0, colon);
  if (colon < 0 || !REMAP_SIDES.includes(side as RemapSide)) {
    throw new Error(`remap ${value}: expected client:<cidr> or server:<cidr>`);
  }
  return { side: side as RemapSide, cidr: value.slice(colon + 1) };
}

function addPipelineOptions(query: URLSearchParams, options: PipelineOptions): void {
  if (options.variant !== undefined) query.set('variant', options.variant);
  for (const side of REMAP_SIDES) {
    const cidr = options.remap?.[side];
    if (cidr !== undefined) query.append('remap', remapRule(side, cidr));
  }
  if (options.keylog !== undefined) {
    if (!options.keylog.startsWith('/')) throw new Error(`keylog '${options.keylog}' is not an absolute path`);
    query.set('keylog', options.keylog);
  }
}

function addRotation(query: URLSearchParams, options: RotationOptions): void {
  if (options.rotateSize !== undefined) {
    if (!ROTATE_SIZE_PATTERN.test(options.rotateSize)) throw new Error(`rotateSize '${options.rotateSize}' is not a size like 500K, 100M or 2G`);
    query.set('rotate-size', options.rotateSize);
  }
  if (options.rotateSeconds !== undefined) query.set('rotate-seconds', String(options.rotateSeconds));
}

function hostPort(host: string, port: number | undefined): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? bracketed : `${bracketed}:${port}`;
}

function withQuery(base: string, query: URLSearchParams): string {
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}
