/**
 * What each flow will do, decided up front from the seed: gateway,
 * addresses, protocol and TLS suite, objects to fetch, how it closes and
 * which faults the gateway injects. Running the flow later only carries
 * this out, so a seed always asks for the same traffic.
 */
import type { FlowTags } from '../format/records.js';
import { clientAddress, ephemeralPort, serverAddress } from './addresses.js';
import type { BodySpec } from './bodies.js';
import type { CloseName, GenerateOptions, Protocol, Stack } from './options.js';
import type { SeededRandom } from './random.js';
import { filePath } from './servers.js';
import { OPENSSL_SUITES, TLS_SUITES } from './suites.js';
import type { TlsSuite } from './suites.js';

export interface FlowPlan {
  readonly index: number;
  readonly flowId: Buffer;
  readonly gateway: number;
  readonly protocol: Protocol;
  readonly stack: Stack;
  readonly suite?: TlsSuite;
  readonly ipVersion: 4 | 6;
  readonly clientIp: Buffer;
  readonly clientPort: number;
  readonly serverIp: Buffer;
  readonly serverPort: number;
  readonly serverName: string;
  readonly user: string;
  readonly tags: FlowTags;
  readonly objects: readonly BodySpec[];
  readonly close: CloseName;
  readonly gap: boolean;
  readonly withKeys: boolean;
}

const SERVER_NAMES = ['www.example.com', 'api.example.net', 'static.example.org', 'files.example.com', 'login.example.net'];
const SITES = ['fra1', 'ams2', 'iad3', 'sin1'];
const MIB = 1024 * 1024;

export function planFlows(options: GenerateOptions, random: SeededRandom): FlowPlan[] {
  const plans: FlowPlan[] = [];
  const count = options.totalBytes === undefined ? options.flows : bulkFlowCount(options);
  let opensslFlows = 0;
  const nextOpensslSuite = (): TlsSuite => OPENSSL_SUITES[opensslFlows++ % OPENSSL_SUITES.length]!;
  for (let index = 0; index < count; index++) {
    const flowRandom = random.fork(`flow-${index}`);
    plans.push(options.totalBytes === undefined ? planFlow(options, index, flowRandom, nextOpensslSuite) : planBulkFlow(options, index, flowRandom));
  }
  return plans;
}

function planFlow(options: GenerateOptions, index: number, random: SeededRandom, nextOpensslSuite: () => TlsSuite): FlowPlan {
  const protocol = pickProtocol(options, random);
  // Drawn only when asked for, so that plans without openssl flows stay what they were for a seed.
  const opensslShare = options.opensslShare ?? 0;
  const stack: Stack = protocol === 'https' && opensslShare > 0 && random.chance(opensslShare) ? 'openssl' : 'node';
  if (stack === 'openssl') return planOpensslFlow(options, index, random, nextOpensslSuite());
  const suites = protocol === 'h2' ? TLS_SUITES.filter((suite) => suite.h2) : TLS_SUITES;
  const objectCount = random.int(1, Math.max(1, options.maxObjectsPerFlow ?? 3));
  const objects: BodySpec[] = [];
  for (let n = 0; n < objectCount; n++) {
    const kind = random.chance(0.5) ? 'text' : 'binary';
    const size = bodySize(options.bodyBytes, random);
    const path = filePath(`f${index}o${n}`, size, kind);
    objects.push({ path, size, kind });
  }
  const isTls = protocol !== 'http';
  return {
    ...endpoints(options, index, random, isTls ? 443 : 80),
    protocol,
    stack,
    ...(isTls ? { suite: random.pick(suites) } : {}),
    objects,
    close: pickClose(options, protocol, random),
    gap: options.gapFlows?.includes(index) ?? false,
    withKeys: isTls && !(options.withoutKeys?.includes(index) ?? false),
  };
}

/**
 * `openssl s_server -HTTP` answers one request per connection and ends the
 * session with close_notify, on which s_client closes the connection first.
 */
function planOpensslFlow(options: GenerateOptions, index: number, random: SeededRandom, suite: TlsSuite): FlowPlan {
  const kind = random.chance(0.5) ? 'text' : 'binary';
  const size = bodySize(options.bodyBytes, random);
  return {
    ...endpoints(options, index, random, 443),
    protocol: 'https',
    stack: 'openssl',
    suite,
    objects: [{ path: filePath(`f${index}o0`, size, kind), size, kind }],
    close: 'fin-client',
    gap: options.gapFlows?.includes(index) ?? false,
    withKeys: !(options.withoutKeys?.includes(index) ?? false),
  };
}

/** Bulk mode: one large binary body per flow, alternating plain HTTP and HTTPS (or all HTTPS with `bulkCipher`). */
function planBulkFlow(options: GenerateOptions, index: number, random: SeededRandom): FlowPlan {
  const fixed = options.bulkCipher === undefined ? undefined : TLS_SUITES.find((suite) => suite.cipher === options.bulkCipher);
  if (options.bulkCipher !== undefined && fixed === undefined) {
    throw new RangeError(`generator option bulkCipher is ${options.bulkCipher}, not one of ${TLS_SUITES.map((s) => s.cipher).join(', ')}`);
  }
  const protocol: Protocol = fixed !== undefined || index % 2 === 1 ? 'https' : 'http';
  const bulk = options.bulkBodyBytes ?? 32 * MIB;
  const size = Math.max(0, Math.min(bulk, (options.totalBytes ?? 0) - index * bulk));
  return {
    ...endpoints(options, index, random, protocol === 'http' ? 80 : 443),
    protocol,
    stack: 'node',
    ...(protocol === 'https' ? { suite: fixed ?? TLS_SUITES[index % 4 === 1 ? 0 : 3]! } : {}),
    objects: [{ path: filePath(`bulk${index}`, size, 'binary'), size, kind: 'binary' }],
    close: 'fin-client',
    gap: false,
    withKeys: protocol === 'https',
  };
}

function bulkFlowCount(options: GenerateOptions): number {
  return Math.max(1, Math.ceil((options.totalBytes ?? 0) / (options.bulkBodyBytes ?? 32 * MIB)));
}

type Endpoints = Pick<FlowPlan,
  'index' | 'flowId' | 'gateway' | 'ipVersion' | 'clientIp' | 'clientPort' | 'serverIp' | 'serverPort' | 'serverName' | 'user' | 'tags'>;

function endpoints(options: GenerateOptions, index: number, random: SeededRandom, serverPort: number): Endpoints {
  const ipVersion = random.chance(options.ipv6Share ?? 0.25) ? 6 : 4;
  const serverName = random.pick(SERVER_NAMES);
  const user = `user${random.int(1, 50)}@corp.example.com`;
  const tags: FlowTags = { user, serverName };
  if (random.chance(options.mssShare ?? 0.5)) {
    tags.clientMss = ipVersion === 4 ? random.pick([1460, 1400, 1380]) : random.pick([1440, 1380, 1220]);
    tags.serverMss = ipVersion === 4 ? 1460 : 1440;
  }
  if (random.chance(0.3)) tags.site = random.pick(SITES);
  return {
    index,
    flowId: random.bytes(16),
    gateway: index % Math.max(1, options.gateways ?? 2),
    ipVersion,
    clientIp: clientAddress(random, ipVersion),
    clientPort: ephemeralPort(random),
    serverIp: serverAddress(random, ipVersion),
    serverPort,
    serverName,
    user,
    tags,
  };
}

function pickProtocol(options: GenerateOptions, random: SeededRandom): Protocol {
  if (!random.chance(options.httpsShare ?? 0.6)) return 'http';
  return random.chance(options.h2Share ?? 0.25) ? 'h2' : 'https';
}

/** HTTP/2 has no `Connection: close` and no reset path: its flows end from the client. */
function pickClose(options: GenerateOptions, protocol: Protocol, random: SeededRandom): CloseName {
  if (random.chance(options.rstShare ?? 0.1)) {
    return protocol === 'h2' || random.chance(0.5) ? 'rst-client' : 'rst-server';
  }
  return protocol === 'h2' || random.chance(0.5) ? 'fin-client' : 'fin-server';
}

function bodySize(bodyBytes: GenerateOptions['bodyBytes'], random: SeededRandom): number {
  if (Array.isArray(bodyBytes)) return random.pick(bodyBytes as readonly number[]);
  const max = (bodyBytes as number | undefined) ?? 4 * MIB;
  const roll = random.float();
  const capped = (low: number, high: number): number => random.int(Math.min(low, max), Math.min(high, max));
  if (roll < 0.1) return capped(0, 64);
  if (roll < 0.55) return capped(65, 16 * 1024);
  if (roll < 0.9) return capped(16 * 1024, 256 * 1024);
  return capped(256 * 1024, max);
}
