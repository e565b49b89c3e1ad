/** `cloudtap stitch`: CTAP objects in, packets out. */
import { parseArgs } from 'node:util';
import { openStore, type OpenStoreOptions } from '../store/open.js';
import { countingStore, StoreCallCounts } from '../store/counting-store.js';
import type { ObjectStore } from '../store/store.js';
import { openOutput } from '../export/open-output.js';
import type { ExportTarget, OutputReport } from '../graph/export-graph.js';
import { splitOutputOptions } from '../graph/output-options.js';
import { isBucketOutputUrl, openBucketOutput, parseBucketOutputUrl } from '../export/bucket-output.js';
import type { PacketSink } from '../export/sink.js';
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from '../flow/flow-table.js';
import { budgetShares, type BudgetShares } from './memory-budget.js';
import { parseSelection, type FlowSelection } from '../flow/selection.js';
import { parsePortMap } from '../graph/cleartext.js';
import { emptyTlsStats, type TlsStats } from '../tls/stats.js';
import { createLogger } from '../observe/log.js';
import { stitch, type StitchOptions, type StitchStats } from '../run/stitch.js';
import type { Health } from '../../kube-common/probe-server.js';
import type { MetricsContext } from '../observe/metrics.js';
import { openShardServices, type ShardServices } from '../kube/shard-services.js';
import type { Logger } from '../observe/log.js';
import { DEFAULT_KEY_WAIT } from '../../contract/stitcher-config.js';
import { resolveStitchConfig, type StitchConfig, type StitchFlags } from './stitch-config.js';
import { formatBytes, formatCount, Progress } from './progress.js';

export const STITCH_USAGE = `usage: cloudtap stitch --source <url> [--keys <url>] --output <url> [--output <url>...] [--once]
  --source <url>            where the CTAP objects are: file:///abs/dir[/prefix], s3://, gs://, azblob://
  --keys <url>              where the key objects are (default: the source)
  --credentials <file>      credentials for the source (default: the provider's ambient identity)
  --keys-credentials <file> credentials for the keys store
  --output <url>            pcap:///abs/file.pcap, pcapng:///abs/file.pcapng, or a folder ending in / to rotate files;
                            pcapng+s3://bucket/prefix/ (any store URL: rotated files uploaded with the source's credentials);
                            vxlan://host:4789?vni=N, geneve://host:6081?vni=N, pcap-over-ip://host:57012 (repeatable);
                            any output takes remap=client:<cidr> / remap=server:<cidr>
                            variant=original|cleartext|both (TLS decrypted onto a plain port), keylog=/abs/file
  --select <criterion>      user=<globs>, port=<ports>, subnet=<cidrs>: export only matching flows (repeatable)
  --key-wait <dur>          how long (capture time) a TLS flow waits for its keys (default ${DEFAULT_KEY_WAIT})
  --cleartext-ports <map>   server ports of decrypted flows in the clear-text variant (default 443:80)
  --once                    read every object present, close all flows, print a summary and exit
  --poll-interval <dur>     how often to look for new objects (default 10s)
  --look-back <dur>         list only the hour folders of this window (default 3h when polling; --once lists all)
  --from <time> --to <time> a backfill: list only the hours between these (ISO 8601, UTC)
  --max-flow-buffer <size>  out-of-order bytes held per flow before giving up on a hole (default 8M)
  --max-buffer <size>       the memory budget for everything held: flows, their bytes, records waiting for their
                            FLOW_OPEN, TLS flows waiting for keys, decryptor state (default: 40% of the container's
                            memory limit, else 256M); past it the oldest state is given up, counted
  --max-open-flows <n>      open flows at most; one more closes the one quiet the longest (default 1000000)
  --log-level <level>       error, warn, info (default) or debug; logs are JSON on stderr
  --config <file>           a JSON file with the same settings (flags win)
  --metrics-port <port>     serve Prometheus /metrics, /healthz and /readyz on this port
  --shard-index <i> --shard-count <n>
                            own only the gateways with crc32(name) mod n == i (default: env SHARD_INDEX, SHARD_COUNT; else all)
  --reorder-wait <dur>      how long a missing <seq> is waited for before it is passed as a gap (default 5m)
  --reorder-window <dur>    how long (gateway time) a flow's bytes wait for records that come out of order before
                            they are handed on; a flow whose FLOW_CLOSE comes first goes at once (default 30s)
  --flow-idle-timeout <dur> close a flow with no record for this long of its gateway's time: its FLOW_CLOSE was lost (default 1h)
  --checkpoint <url>        resume from and keep checkpoints: file:///abs/dir, or configmap://<namespace>/<cloudtap>
                            (in a cluster: also holds the shard's Lease <cloudtap>-shard-<i> while exporting)
  --checkpoint-interval <dur> how often a checkpoint is written (default 10s; also on SIGTERM)
  --lease-duration <dur>    the shard Lease's duration (default 15s)
  --quiet                   no progress line`;

export async function stitchCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      source: { type: 'string' }, keys: { type: 'string' }, credentials: { type: 'string' },
      'keys-credentials': { type: 'string' }, output: { type: 'string', multiple: true },
      once: { type: 'boolean' }, 'poll-interval': { type: 'string' }, 'log-level': { type: 'string' },
      'max-flow-buffer': { type: 'string' }, 'max-buffer': { type: 'string' }, 'max-open-flows': { type: 'string' }, config: { type: 'string' },
      quiet: { type: 'boolean' }, 'metrics-port': { type: 'string' },
      'look-back': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      select: { type: 'string', multiple: true }, 'key-wait': { type: 'string' }, 'cleartext-ports': { type: 'string' },
      'shard-index': { type: 'string' }, 'shard-count': { type: 'string' }, 'reorder-wait': { type: 'string' },
      'flow-idle-timeout': { type: 'string' }, 'reorder-window': { type: 'string' }, checkpoint: { type: 'string' }, 'checkpoint-interval': { type: 'string' }, 'lease-duration': { type: 'string' },
    },
    strict: true,
  });
  // First of all: a pod may be told to stop while it is still starting.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await stitchUntilStopped(values as StitchFlags, stop);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function stitchUntilStopped(flags: StitchFlags, stop: AbortController): Promise<number> {
  const config = resolveStitchConfig(flags);
  const logger = createLogger(config.logLevel);
  const selection = config.select.length > 0 ? parseSelection(config.select) : undefined;
  const storeCalls = new Map<string, StoreCallCounts>();
  const source = await openCountedStore(config.source, { credentialsFile: config.credentials, role: 'source' }, storeCalls);
  const keys = config.keys === undefined ? undefined : await openCountedStore(config.keys, { credentialsFile: config.keysCredentials, role: 'keys' }, storeCalls);
  const services = config.checkpoint === undefined ? undefined : await openShardServices({
    checkpointUrl: config.checkpoint, shard: config.shard, leaseDurationSeconds: config.leaseDurationSeconds, logger,
  });
  const lease = services?.lease;
  const progress = new Progress(process.stderr, !config.quiet);
  const started = Date.now();
  let current: StitchStats | undefined;
  const health = { live: () => true, ready: () => current?.shard.ready === true && (lease === undefined || lease.mayExport()) };
  const metrics = config.metricsPort === undefined ? undefined : await serveMetrics(config.metricsPort, health, {
    stats: () => current, outputs: config.outputs.map(redactUrl), shard: config.shard, storeCalls,
    ...(lease !== undefined ? { leaseHeld: () => lease.mayExport() } : {}),
  });
  try {
    // A pod that waits for its shard's Lease opens no output: it must not export.
    if (lease !== undefined && !(await lease.acquire(stop.signal))) return 0;
    lease?.onLost(() => stop.abort());
    const outputs = await openOutputs(config.outputs, config.credentials, storeCalls);
    const budget = budgetShares(config.maxTotalBufferBytes);
    logger.info('memory budget', { bytes: budget.totalBytes, from: budget.source });
    const cleartext = outputs.some((o) => o.options.variant !== 'original')
      ? { portMap: parsePortMap(config.cleartextPorts), maxHeldBytes: budget.decryptorBytes }
      : undefined;
    if (cleartext !== undefined) await metrics?.addTls(() => current?.tls ?? emptyTlsStats());
    const stats = await stitch({
      source, keys, outputs, once: config.once, pollIntervalMs: config.pollIntervalMs, logger, signal: stop.signal,
      hours: config.hours,
      flowLimits: flowLimits(config, budget),
      keyGateMaxHeldBytes: budget.keyGateBytes,
      keySessionsMaxBytes: budget.keySessionsBytes,
      keyLinesMaxBytes: budget.keyLinesBytes,
      selection,
      cleartext,
      keyWaitMs: config.keyWaitMs,
      shard: config.shard,
      reorderWaitMs: config.reorderWaitMs,
      flowIdleMs: config.flowIdleMs,
      ...shardOptions(services, config, logger),
      onStart: (s) => (current = s),
      onProgress: (s) => progress.update(() => progressLine(s)),
    });
    progress.done();
    process.stdout.write(summary(stats, config, (Date.now() - started) / 1000, selection));
    if (stats.tls !== undefined) process.stdout.write(tlsSummary(stats.tls));
    if (stats.shard.stoppedBy === 'guard') {
      process.stderr.write(`cloudtap: lost the shard Lease (${lease?.description ?? 'guard'}): stopped exporting\n`);
      return 1;
    }
    // A one-off run promises every packet: one that was not sent is a failure, not a footnote.
    const unsent = unsentOutputs(stats, config);
    for (const line of unsent) process.stderr.write(`cloudtap: ${line}\n`);
    return config.once && unsent.length > 0 ? 1 : 0;
  } finally {
    await lease?.release();
    metrics?.close();
    await Promise.all([source.close?.(), keys?.close?.()]);
  }
}

/** What the metrics read: the labels createMetrics takes, the run's stats and the store calls. */
interface MetricsSources extends MetricsContext {
  readonly stats: () => StitchStats | undefined;
  readonly storeCalls: ReadonlyMap<string, StoreCallCounts>;
}

interface ServedMetrics {
  addTls(tls: () => TlsStats): Promise<void>;
  close(): void;
}

/**
 * Prometheus metrics and the probes on `port`. Imported only when a port is given: prom-client
 * (with OpenTelemetry and node:http) is about 60 ms of a run's start, which a one-off run does not need.
 */
async function serveMetrics(port: number, health: Health, sources: MetricsSources): Promise<ServedMetrics> {
  const [{ createMetrics }, { registerStoreMetrics }, { serveMetricsAndProbes }] = await Promise.all([
    import('../observe/metrics.js'), import('../observe/store-metrics.js'), import('../../kube-common/probe-server.js'),
  ]);
  const { stats, storeCalls, ...labels } = sources;
  const registry = createMetrics(stats, labels);
  registerStoreMetrics(registry, storeCalls);
  const server = await serveMetricsAndProbes(registry, port, undefined, health);
  return {
    addTls: async (tls) => {
      const { registerTlsMetrics } = await import('../observe/tls-metrics.js');
      registerTlsMetrics(registry, tls);
    },
    close: () => server.close(),
  };
}

function shardOptions(services: ShardServices | undefined, config: StitchConfig, logger: Logger): Pick<StitchOptions, 'checkpoint' | 'guard'> {
  if (services === undefined) return {};
  return {
    checkpoint: { store: services.store, intervalMs: config.checkpointIntervalMs, logger },
    ...(services.lease !== undefined ? { guard: services.lease } : {}),
  };
}

/** Opens a store whose calls (and retries) are counted under its role. */
async function openCountedStore(url: string, options: OpenStoreOptions & { role: 'source' | 'keys' | 'output' }, calls: Map<string, StoreCallCounts>): Promise<ObjectStore> {
  const counts = calls.get(options.role) ?? new StoreCallCounts();
  calls.set(options.role, counts);
  const store = await openStore(url, { ...options, retry: { onRetry: () => counts.retries++ } });
  return countingStore(store, counts);
}

/** Opens every output; a bucket output (`pcapng+s3://...`) writes with the source's credentials. */
async function openOutputs(urls: readonly string[], credentialsFile: string | undefined, calls: Map<string, StoreCallCounts>): Promise<ExportTarget[]> {
  const targets: ExportTarget[] = [];
  try {
    for (const url of urls) {
      const options = splitOutputOptions(url);
      targets.push({ sink: await openOne(options.url, credentialsFile, calls), options });
    }
    return targets;
  } catch (error) {
    await Promise.allSettled(targets.map((target) => target.sink.close()));
    throw error;
  }
}

async function openOne(url: string, credentialsFile: string | undefined, calls: Map<string, StoreCallCounts>): Promise<PacketSink> {
  if (!isBucketOutputUrl(url)) return openOutput(url);
  const spec = parseBucketOutputUrl(url);
  return openBucketOutput(url, spec, await openCountedStore(spec.storeUrl, { credentialsFile, role: 'output' }, calls));
}

function flowLimits(config: StitchConfig, budget: BudgetShares): Partial<FlowLimits> {
  return {
    reorderWindowNs: BigInt(config.reorderWindowMs) * 1_000_000n,
    maxTotalBufferBytes: budget.flowTableBytes,
    // One flow never takes more than the flow table's share can carry beside the others.
    maxFlowBufferBytes: Math.min(config.maxFlowBufferBytes ?? DEFAULT_FLOW_LIMITS.maxFlowBufferBytes, Math.floor(budget.flowTableBytes / 4)),
    ...(config.maxOpenFlows !== undefined ? { maxOpenFlows: config.maxOpenFlows } : {}),
  };
}

function progressLine(stats: StitchStats): string {
  return `stitching: ${stats.objects}/${stats.objectsKnown} objects, ${formatBytes(stats.bytesRead)} read, `
    + `${formatCount(stats.flows.flowsOpened)} flows, ${formatCount(stats.packets)} packets`;
}

function summary(stats: StitchStats, config: StitchConfig, seconds: number, selection: FlowSelection | undefined): string {
  const f = stats.flows;
  const lines = [
    `cloudtap stitch: ${config.once ? 'done' : 'stopped'} in ${seconds.toFixed(1)} s`,
    `  objects   ${formatCount(stats.objects)} read (${formatBytes(stats.bytesRead)}), ${formatCount(stats.damaged)} damaged, ${formatCount(stats.seqGaps)} missing ranges`,
    `  flows     ${formatCount(f.flowsOpened)} opened, ${formatCount(f.flowsClosed)} closed, ${formatCount(f.orphanRecords)} orphan records`,
    `  bytes     ${formatCount(f.tapped)} tapped: ${formatCount(f.exported)} exported, ${formatCount(f.duplicate)} duplicate, ${formatCount(f.trimmed)} past the close, ${formatCount(f.late)} late, ${formatCount(f.bufferedBytes)} held`,
    `  holes     ${formatCount(f.holes)} (${formatCount(f.holeBytes)} bytes: ${formatCount(f.gapHoleBytes)} lost by the gateway, ${formatCount(f.missingHoleBytes)} never arrived)`,
    `  dropped   ${formatCount(f.orphanRecords)} records of flows never opened (${formatCount(f.orphanBytes)} bytes), ${formatCount(f.lateRecords)} after their flow closed (${formatCount(f.lateRecordBytes)} bytes), ${formatCount(f.invalidRecords)} invalid`,
    `  buffers   ${formatCount(f.forcedReleases)} early releases, ${formatCount(f.forcedFlushesFlowCap + f.forcedFlushesTotalCap)} forced flushes (a buffer cap gave up waiting)`,
    `  memory    ${formatCount(f.flowsClosedForMemory)} flows closed and ${formatCount(f.earlyDroppedForMemory)} early records dropped for the budget, ${formatCount(f.flowsClosedForFlowCap)} flows closed for --max-open-flows`,
    `  packets   ${formatCount(stats.packets)} synthesised`,
    `  keys      ${formatCount(stats.keyLines)} key log lines, ${formatCount(stats.keyLinesInvalid)} invalid dropped, ${formatCount(stats.keyObjectsCut)} objects cut at the per-object limit`,
    `  key memory ${formatCount(stats.keySessionsDropped)} TLS sessions dropped and ${formatCount(stats.keyLinesForgotten)} key log lines forgotten for the budget`,
  ];
  if (config.shard.count > 1) lines.push(`  shard     ${config.shard.index} of ${config.shard.count}`);
  if (stats.shard.checkpoint !== undefined) {
    const c = stats.shard.checkpoint;
    lines.push(`  resume    ${formatCount(stats.shard.resumedGateways)} gateways, ${formatCount(stats.shard.resumedFlows)} open flows carried over`);
    lines.push(`  checkpoint ${formatCount(c.written)} written, ${formatCount(c.failed)} failed, ${formatCount(c.flowsLeftOut)} flows left out`);
  }
  if (selection !== undefined) {
    const c = selection.counts;
    lines.push(`  selected  ${formatCount(c.selected)} flows; left out ${formatCount(c.leftOutByUser)} by user, ${formatCount(c.leftOutByPort)} by port, ${formatCount(c.leftOutBySubnet)} by subnet`);
  }
  config.outputs.forEach((url, i) => {
    const counter = stats.outputs[i]!;
    const unsent = counter.droppedPackets + sendErrors(counter);
    // A wire output reports what reached the kernel, not what it was handed.
    const sent = unsent === 0 && counter.exportedPackets === counter.packets
      ? `${formatCount(counter.packets)} packets, ${formatBytes(counter.bytes)}`
      : `${formatCount(counter.packets)} packets handed, ${formatCount(counter.exportedPackets)} sent (${formatBytes(counter.exportedBytes)}), `
        + `${formatCount(counter.droppedPackets)} dropped, ${formatCount(sendErrors(counter))} send errors`;
    lines.push(`  output    ${redactUrl(url)}: ${sent}`);
  });
  return lines.join('\n') + '\n';
}

function sendErrors(report: OutputReport): number {
  return Object.values(report.sendErrorsByCode).reduce((sum, n) => sum + n, 0);
}

/** One line per output that dropped packets or had sends refused. */
function unsentOutputs(stats: StitchStats, config: StitchConfig): string[] {
  return config.outputs.flatMap((url, i) => {
    const report = stats.outputs[i]!;
    const errors = sendErrors(report);
    if (report.droppedPackets === 0 && errors === 0) return [];
    const codes = Object.entries(report.sendErrorsByCode).map(([code, n]) => `${code} ${n}`).join(', ');
    return [`output ${redactUrl(url)}: ${formatCount(report.droppedPackets)} of ${formatCount(report.packets)} packets dropped (no peer connected or queue full), `
      + `${formatCount(errors)} send errors${codes === '' ? '' : ` (${codes})`}`];
  });
}

function tlsSummary(tls: TlsStats): string {
  const reasons = Object.entries(tls.undecryptable).filter(([, n]) => n > 0).map(([reason, n]) => `${n} ${reason}`);
  const tally = (counts: Record<string, number>): string => Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(', ') || 'none';
  return [
    `  tls       ${formatCount(tls.decryptedFlows)} flows decrypted (${formatCount(tls.damagedFlows)} lost part of a direction), `
      + `${reasons.length === 0 ? 'none' : reasons.join(', ')} undecryptable, ${formatCount(tls.authFailures)} records failed authentication`,
    `  versions  ${tally(tls.byVersion)}`,
    `  suites    ${tally(tls.bySuite)}`,
  ].join('\n') + '\n';
}

/** Output URLs hold no secrets today, but query strings may one day: show the path only. */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
