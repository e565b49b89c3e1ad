/**
 * Parses an `--output` URL for a wire target into typed options:
 *
 *     vxlan://host:4789?vni=N
 *     geneve://host:6081?vni=N&inner=ethernet|ip&opt=0x0108:0x01:hexvalue
 *     pcap-over-ip://host:57012            (connect to a listener)
 *     pcap-over-ip://0.0.0.0:57012?listen  (serve any number of clients)
 *
 * and on any of them: mtu=, pace=asap|realtime, rate= (Mbit/s), ports= (UDP
 * source ports), queue= (packets), plus remap= and variant= which the pipeline
 * reads (remapping happens before synthesis, see docs/remap.md).
 * Errors are one line that names the URL and the parameter at fault.
 */
import type { GeneveOption } from './geneve.js';
import { parseRemapRule } from './remap.js';
import { MAX_MTU, MIN_MTU, PIPELINE_PARAMETERS, WIRE_PARAMETERS } from '../../contract/output-url.js';

export type WireKind = 'vxlan' | 'geneve' | 'pcap-over-ip';
export type Pace = 'asap' | 'realtime';

export interface WireUrl {
  readonly url: string;
  readonly kind: WireKind;
  /** Host name or address literal, without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** VXLAN / GENEVE network identifier, 24 bits. @default 0 */
  readonly vni: number;
  /** Outer MTU in bytes. @default 1500 */
  readonly mtu: number;
  /** @default 'asap' */
  readonly pace: Pace;
  /** Cap in Mbit/s of outer bytes; undefined means no cap. */
  readonly rateMbps: number | undefined;
  /** GENEVE only: what the tunnel carries. @default 'ethernet' */
  readonly inner: 'ethernet' | 'ip';
  /** GENEVE only: option TLVs, in URL order. */
  readonly options: readonly GeneveOption[];
  /** UDP tunnels: how many source ports (and sockets) flows are spread over. @default 64 */
  readonly sourcePorts: number;
  /** Packets a sink may hold before `write` returns false. @default 4096 */
  readonly queuePackets: number;
  /** pcap-over-ip: serve instead of connect. @default false */
  readonly listen: boolean;
  /** `remap=` values as written (`client:100.64.0.0/10`), for the pipeline. */
  readonly remap: readonly string[];
  /** `variant=` for the pipeline (which TLS variant this output gets). */
  readonly variant: string | undefined;
}

const defaultPorts: Record<WireKind, number> = { vxlan: 4789, geneve: 6081, 'pcap-over-ip': 57012 };
/** The contract's lists (contract/output-url.ts), and the pipeline's parameters a caller may leave in. */
const parametersByKind: Record<WireKind, readonly string[]> = {
  vxlan: [...WIRE_PARAMETERS.vxlan, ...PIPELINE_PARAMETERS],
  geneve: [...WIRE_PARAMETERS.geneve, ...PIPELINE_PARAMETERS],
  'pcap-over-ip': [...WIRE_PARAMETERS['pcap-over-ip'], ...PIPELINE_PARAMETERS],
};

/** True when `url` names a wire target this module parses. */
export function isWireUrl(url: string): boolean {
  return /^(vxlan|geneve|pcap-over-ip):\/\//i.test(url);
}

/** @throws Error `output <url>: <parameter>: <what is wrong>` */
export function parseWireUrl(url: string): WireUrl {
  const fail = (what: string): never => {
    throw new Error(`output ${url}: ${what}`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('not a valid URL');
  }
  const kind = parsed.protocol.slice(0, -1).toLowerCase();
  if (kind !== 'vxlan' && kind !== 'geneve' && kind !== 'pcap-over-ip') {
    return fail(`scheme ${parsed.protocol} is not vxlan:, geneve: or pcap-over-ip:`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') fail('host: missing');
  if (parsed.pathname !== '' && parsed.pathname !== '/') fail(`path ${parsed.pathname}: not allowed`);
  const query = parsed.searchParams;
  for (const name of new Set(query.keys())) {
    if (!parametersByKind[kind].includes(name)) fail(`${name}: unknown parameter for ${kind}`);
  }
  const single = (name: string): string | undefined => {
    const values = query.getAll(name);
    if (values.length > 1) fail(`${name}: given ${values.length} times`);
    return values[0];
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = single(name);
    if (text === undefined) return fallback;
    const value = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      fail(`${name}=${text}: expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  const pace = single('pace') ?? 'asap';
  if (pace !== 'asap' && pace !== 'realtime') return fail(`pace=${pace}: expected asap or realtime`);
  const rateText = single('rate');
  const rateMbps = rateText === undefined ? undefined : Number(rateText);
  if (rateMbps !== undefined && !(Number.isFinite(rateMbps) && rateMbps > 0)) {
    fail(`rate=${rateText}: expected a positive number of Mbit/s`);
  }
  const inner = single('inner') ?? 'ethernet';
  if (inner !== 'ethernet' && inner !== 'ip') return fail(`inner=${inner}: expected ethernet or ip`);
  const listen = single('listen');
  if (listen !== undefined && listen !== '' && listen !== 'true') fail(`listen=${listen}: takes no value`);
  const options = query.getAll('opt').map((text) => {
    try {
      return parseGeneveOption(text);
    } catch (error) {
      return fail(`opt=${text}: ${(error as Error).message}`);
    }
  });
  const remap = query.getAll('remap');
  for (const rule of remap) {
    try {
      parseRemapRule(rule);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const optionsLength = options.reduce((sum, option) => sum + 4 + option.data.length, 0);
  if (optionsLength > 252) fail(`opt: options take ${optionsLength} bytes, GENEVE allows 252`);
  return {
    url,
    kind,
    host,
    port: parsed.port === '' ? defaultPorts[kind] : Number(parsed.port),
    vni: integer('vni', 0, 0, 0xffffff),
    mtu: integer('mtu', 1500, MIN_MTU, MAX_MTU),
    pace,
    rateMbps,
    inner,
    options,
    sourcePorts: integer('ports', 64, 1, 16384),
    queuePackets: integer('queue', 4096, 1, 1 << 20),
    listen: listen !== undefined,
    remap,
    variant: single('variant'),
  };
}

/**
 * `class:type:hexdata`, e.g. `0x0108:0x01:0000002a`; data is 0 to 124 bytes,
 * a multiple of 4 (RFC 8926 section 3.5).
 */
export function parseGeneveOption(text: string): GeneveOption {
  const parts = text.split(':');
  if (parts.length !== 3) throw new Error('expected class:type:hexdata');
  const [classText, typeText, dataText] = parts as [string, string, string];
  const optionClass = Number(classText);
  const type = Number(typeText);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(classText) || optionClass > 0xffff) throw new Error(`class ${classText}: expected 0 to 0xffff`);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(typeText) || type > 0xff) throw new Error(`type ${typeText}: expected 0 to 0xff`);
  const hex = dataText.replace(/^0x/i, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`data ${dataText}: expected hex bytes`);
  const data = Buffer.from(hex, 'hex');
  if (data.length % 4 !== 0 || data.length > 124) {
    throw new Error(`data ${dataText}: ${data.length} bytes, expected a multiple of 4 up to 124`);
  }
  return { optionClass, type, data };
}
