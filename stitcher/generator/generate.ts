/**
 * `generateTraffic`: a simulated tapping gateway fleet. Real HTTP, HTTPS
 * and HTTP/2 servers and clients on loopback talk through one tapping
 * relay per connection; the gateways write what the relays saw as CTAP
 * traffic objects and the clients' TLS keys as key objects, and the result
 * is a manifest of what was served and tapped.
 */
import { BlockCodec, CloseReason, Direction } from '../format/records.js';
import { formatEndpoint } from './addresses.js';
import { makeTestCertificate } from './certificate.js';
import { runClient } from './clients.js';
import type { ClientOutcome } from './clients.js';
import { VirtualClock } from './clock.js';
import { SimulatedGateway } from './gateway.js';
import type { CloseName, FlowManifest, GenerateOptions, GenerateResult } from './options.js';
import { createOpensslWorkspace, OpensslFlow } from './openssl-flow.js';
import type { OpensslWorkspace } from './openssl-flow.js';
import { planFlows } from './plan.js';
import type { FlowPlan } from './plan.js';
import { SeededRandom } from './random.js';
import { openRelay } from './relay.js';
import { startServers } from './servers.js';
import type { LoopbackServers } from './servers.js';
import { FlowTap } from './tap.js';
import type { TapFaults } from './tap.js';
import { Uploader } from './uploader.js';

export type * from './options.js';

const MIB = 1024 * 1024;

/**
 * Runs the planned connections and writes their CTAP objects.
 * @throws RangeError for an option out of range (naming it); Error when a connection fails in a way its plan
 * did not ask for, or an upload fails (naming the flow or object).
 */
export async function generateTraffic(options: GenerateOptions): Promise<GenerateResult> {
  checkOptions(options);
  const seed = String(options.seed ?? 1);
  const random = new SeededRandom(seed);
  const root = options.root ?? '';
  const keyRoot = options.keyRoot ?? root;
  const startNs = options.startNs ?? BigInt(Date.now()) * 1_000_000n;
  const bulk = options.totalBytes !== undefined;
  const objectBytes = options.objectBytes ?? (bulk ? 8 * MIB : MIB);
  const clock = new VirtualClock({ startNs, timeScale: options.timeScale, nsPerByte: options.nsPerByte });
  const uploader = new Uploader({
    traffic: options.traffic,
    keys: options.keys ?? options.traffic,
    random: random.fork('uploads'),
    reorderWindow: options.reorderWindow,
    keysTiming: options.keysTiming,
    maxPendingBytes: Math.max(8 * MIB, 4 * objectBytes),
  });
  const gateways = Array.from({ length: Math.max(1, options.gateways ?? 2) }, (_, i) => new SimulatedGateway({
    name: `${options.gatewayPrefix ?? 'gw-a'}${i + 1}`,
    root,
    keyRoot,
    objectBytes,
    codec: options.codec ?? (bulk ? BlockCodec.None : undefined),
    shuffle: options.shuffle ?? false,
    scatterShare: options.scatterShare ?? 0,
    random: random.fork(`gateway-${i}`),
    uploader,
  }));
  const plans = planFlows(options, random.fork('plans'));
  const certificate = await makeTestCertificate();
  const servers = await startServers(seed, certificate);
  const openssl = plans.some((plan) => plan.stack === 'openssl') ? await createOpensslWorkspace(certificate) : undefined;
  const context: FlowContext = { options, seed, servers, openssl, clock, uploader };
  const flows: FlowManifest[] = [];
  let tappedBytes = 0;
  try {
    const runOne = async (plan: FlowPlan): Promise<void> => {
      const flow = await runFlow(plan, context, gateways[plan.gateway]!);
      flows.push(flow);
      tappedBytes += flow.bytesC2s + flow.bytesS2c;
      options.onProgress?.({ flowsDone: flows.length, flowsTotal: plans.length, tappedBytes, objectsWritten: uploader.written.length });
    };
    await inParallel(plans, options.concurrency ?? (bulk ? 4 : 8), runOne);
    for (const gateway of gateways) gateway.flush();
    await uploader.finish();
  } finally {
    await servers.close();
    await openssl?.remove();
  }
  flows.sort((a, b) => a.index - b.index);
  const objects = uploader.written;
  return {
    root,
    keyRoot,
    gateways: gateways.map((gateway) => gateway.name),
    flows,
    objects,
    trafficObjects: objects.filter((o) => o.kind === 'traffic').length,
    keyObjects: objects.filter((o) => o.kind === 'keys').length,
    objectBytes: objects.reduce((sum, o) => sum + o.bytes, 0),
    tappedBytes,
    startNs,
    endNs: clock.now(),
  };
}

/** What every flow of a run shares. */
interface FlowContext {
  readonly options: GenerateOptions;
  readonly seed: string;
  readonly servers: LoopbackServers;
  /** Present when some flows run with openssl. */
  readonly openssl: OpensslWorkspace | undefined;
  readonly clock: VirtualClock;
  readonly uploader: Uploader;
}

async function runFlow(plan: FlowPlan, context: FlowContext, gateway: SimulatedGateway): Promise<FlowManifest> {
  const { options, servers, clock, uploader } = context;
  const tap = new FlowTap(plan, gateway, clock, new SeededRandom(plan.flowId.toString('hex')), faultsFor(plan, options));
  const what = `flow ${plan.index} (${plan.protocol} with ${plan.stack}, ${plan.close})`;
  const openssl = plan.stack === 'openssl' ? new OpensslFlow(plan, context.openssl!, context.seed) : undefined;
  let outcome: ClientOutcome;
  let reason: CloseReason;
  try {
    const port = openssl !== undefined ? await openssl.start()
      : plan.protocol === 'http' ? servers.httpPort : plan.protocol === 'https' ? servers.httpsPort : servers.h2Port;
    const relay = await openRelay(port, tap, () => uploader.backpressure());
    try {
      const deadline = options.flowTimeoutMs ?? 120_000;
      const client = openssl !== undefined ? openssl.fetch(relay.port) : runClient(plan, relay.port);
      outcome = await withDeadline(client, deadline, 'the client did not finish');
      reason = await withDeadline(relay.done, deadline, 'the relay saw no close on both sides');
    } catch (error) {
      relay.abort();
      throw error;
    }
  } catch (error) {
    throw new Error(`while running ${what}: ${(error as Error).message}`);
  } finally {
    await openssl?.close();
  }
  const hasKeys = plan.withKeys && outcome.keylog.length > 0;
  if (hasKeys) gateway.addKeys(plan.flowId, clock.now(), outcome.keylog);
  const clientRandom = /^CLIENT_\S+ ([0-9a-f]{64}) /im.exec(outcome.keylog)?.[1]?.toLowerCase();
  return {
    index: plan.index,
    flowId: plan.flowId.toString('hex'),
    gateway: gateway.name,
    ipVersion: plan.ipVersion,
    client: formatEndpoint(plan.clientIp, plan.clientPort),
    server: formatEndpoint(plan.serverIp, plan.serverPort),
    serverName: plan.serverName,
    user: plan.user,
    protocol: plan.protocol,
    stack: plan.stack,
    ...(outcome.tls !== undefined ? { tls: outcome.tls } : {}),
    objects: outcome.objects,
    bytesC2s: tap.bytesC2s,
    bytesS2c: tap.bytesS2c,
    sha256C2s: tap.digest(Direction.ClientToServer),
    sha256S2c: tap.digest(Direction.ServerToClient),
    close: closeName(reason),
    hasKeys,
    ...(clientRandom !== undefined ? { clientRandom } : {}),
    gaps: tap.gaps,
    dropped: tap.dropped,
  };
}

function checkOptions(options: GenerateOptions): void {
  const counts: [string, number | undefined, number][] = [
    ['flows', options.flows, 0], ['gateways', options.gateways, 1], ['objectBytes', options.objectBytes, 1],
    ['concurrency', options.concurrency, 1], ['totalBytes', options.totalBytes, 0], ['bulkBodyBytes', options.bulkBodyBytes, 1],
    ['maxObjectsPerFlow', options.maxObjectsPerFlow, 1], ['reorderWindow', options.reorderWindow, 0], ['dropChunks', options.dropChunks, 0],
  ];
  for (const [name, value, min] of counts) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) throw new RangeError(`generator option ${name} is ${value}, not an integer >= ${min}`);
  }
  const shares: [string, number | undefined][] = [
    ['ipv6Share', options.ipv6Share], ['httpsShare', options.httpsShare], ['h2Share', options.h2Share], ['rstShare', options.rstShare],
    ['mssShare', options.mssShare], ['opensslShare', options.opensslShare], ['resplitShare', options.resplitShare], ['duplicateShare', options.duplicateShare],
    ['overlapShare', options.overlapShare], ['scatterShare', options.scatterShare],
  ];
  for (const [name, value] of shares) {
    if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`generator option ${name} is ${value}, not a share from 0 to 1`);
  }
  const prefix = options.gatewayPrefix ?? 'gw-a';
  if (!/^[a-z0-9][a-z0-9._-]{0,59}$/.test(prefix)) throw new RangeError(`generator option gatewayPrefix '${prefix}' does not start a gateway name ([a-z0-9][a-z0-9._-]*, at most 60 characters)`);
  const gateways = options.gateways ?? 2;
  if (gateways > 999) throw new RangeError(`generator option gateways is ${gateways}, more than 999`);
}

function faultsFor(plan: FlowPlan, options: GenerateOptions): TapFaults {
  return {
    resplitShare: options.resplitShare ?? (options.totalBytes === undefined ? 0.2 : 0),
    duplicateShare: options.duplicateShare ?? 0,
    overlapShare: options.overlapShare ?? 0,
    ...(plan.gap ? { gapOffset: options.gapOffset ?? 100 } : {}),
    gapBytes: options.gapBytes ?? 300,
    dropReads: dropsOf(plan.index, options),
  };
}

/** `dropChunks` spread over the flows: each gets an even share, the first ones one more. */
function dropsOf(index: number, options: GenerateOptions): number {
  const total = options.dropChunks ?? 0;
  const flows = Math.max(1, options.flows);
  return Math.floor(total / flows) + (index < total % flows ? 1 : 0);
}

function closeName(reason: CloseReason): CloseName {
  switch (reason) {
    case CloseReason.FinFromClient:
      return 'fin-client';
    case CloseReason.FinFromServer:
      return 'fin-server';
    case CloseReason.RstFromClient:
      return 'rst-client';
    case CloseReason.RstFromServer:
      return 'rst-server';
    default:
      throw new Error(`the relay saw neither a FIN nor a RST end the connection (close reason ${reason})`);
  }
}

/** `promise`, or a rejection saying `what` once `ms` have passed (a hung flow must not hang the run). */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work` over `items` with at most `limit` at a time; the first failure stops new work and is rethrown. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
