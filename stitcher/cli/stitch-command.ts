/** `cloudtap stitch`: CTAP objects in, packets out. */
import { parseArgs } from 'node:util';
import { openStore } from '../store/open.js';
import { openOutput } from '../export/open-output.js';
import type { PacketSink } from '../export/sink.js';
import { createLogger } from '../pipeline/log.js';
import { stitch, type StitchStats } from '../pipeline/stitch.js';
import { createMetrics } from '../pipeline/metrics.js';
import { serveMetrics } from '../pipeline/metrics-server.js';
import { resolveStitchConfig, type StitchConfig, type StitchFlags } from './stitch-config.js';
import { formatBytes, formatCount, Progress } from './progress.js';

export const STITCH_USAGE = `usage: cloudtap stitch --source <url> [--keys <url>] --output <url> [--output <url>...] [--once]
  --source <url>            where the CTAP objects are: file:///abs/dir[/prefix], s3://, gs://, azblob://
  --keys <url>              where the key objects are (default: the source)
  --credentials <file>      credentials for the source (default: the provider's ambient identity)
  --keys-credentials <file> credentials for the keys store
  --output <url>            pcap:///abs/file.pcap, pcapng:///abs/file.pcapng, or a folder ending in / to rotate files
  --once                    read every object present, close all flows, print a summary and exit
  --poll-interval <dur>     how often to look for new objects (default 10s)
  --look-back <dur>         list only the hour folders of this window (default 3h when polling; --once lists all)
  --from <time> --to <time> a backfill: list only the hours between these (ISO 8601, UTC)
  --max-flow-buffer <size>  out-of-order bytes held per flow before giving up on a hole (default 8M)
  --max-buffer <size>       out-of-order bytes held in total (default 256M)
  --log-level <level>       error, warn, info (default) or debug; logs are JSON on stderr
  --config <file>           a JSON file with the same settings (flags win)
  --metrics-port <port>     serve Prometheus /metrics, /healthz and /readyz on this port
  --quiet                   no progress line`;

export async function stitchCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      source: { type: 'string' }, keys: { type: 'string' }, credentials: { type: 'string' },
      'keys-credentials': { type: 'string' }, output: { type: 'string', multiple: true },
      once: { type: 'boolean' }, 'poll-interval': { type: 'string' }, 'log-level': { type: 'string' },
      'max-flow-buffer': { type: 'string' }, 'max-buffer': { type: 'string' }, config: { type: 'string' },
      quiet: { type: 'boolean' }, 'metrics-port': { type: 'string' },
      'look-back': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    },
    strict: true,
  });
  const config = resolveStitchConfig(values as StitchFlags);
  const logger = createLogger(config.logLevel);
  const source = await openStore(config.source, { credentialsFile: config.credentials, role: 'source' });
  const keys = config.keys === undefined ? undefined : await openStore(config.keys, { credentialsFile: config.keysCredentials, role: 'keys' });
  const outputs = await openOutputs(config.outputs);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const progress = new Progress(process.stderr, !config.quiet);
  const started = Date.now();
  let current: StitchStats | undefined;
  const metrics = config.metricsPort === undefined ? undefined : await serveMetrics(createMetrics(() => current), config.metricsPort);
  try {
    const stats = await stitch({
      source, keys, outputs, once: config.once, pollIntervalMs: config.pollIntervalMs, logger, signal: stop.signal,
      hours: config.hours,
      flowLimits: flowLimits(config),
      onStart: (s) => (current = s),
      onProgress: (s) => progress.update(progressLine(s)),
    });
    progress.done();
    process.stdout.write(summary(stats, config, (Date.now() - started) / 1000));
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    metrics?.close();
    await Promise.all([source.close?.(), keys?.close?.()]);
  }
}

async function openOutputs(urls: readonly string[]): Promise<PacketSink[]> {
  const outputs: PacketSink[] = [];
  try {
    for (const url of urls) outputs.push(await openOutput(url));
    return outputs;
  } catch (error) {
    await Promise.allSettled(outputs.map((output) => output.close()));
    throw error;
  }
}

function flowLimits(config: StitchConfig): { maxFlowBufferBytes?: number; maxTotalBufferBytes?: number } {
  return {
    ...(config.maxFlowBufferBytes !== undefined ? { maxFlowBufferBytes: config.maxFlowBufferBytes } : {}),
    ...(config.maxTotalBufferBytes !== undefined ? { maxTotalBufferBytes: config.maxTotalBufferBytes } : {}),
  };
}

function progressLine(stats: StitchStats): string {
  return `stitching: ${stats.objects}/${stats.objectsKnown} objects, ${formatBytes(stats.bytesRead)} read, `
    + `${formatCount(stats.flows.flowsOpened)} flows, ${formatCount(stats.packets.packets)} packets`;
}

function summary(stats: StitchStats, config: StitchConfig, seconds: number): string {
  const f = stats.flows;
  const lines = [
    `cloudtap stitch: ${config.once ? 'done' : 'stopped'} in ${seconds.toFixed(1)} s`,
    `  objects   ${formatCount(stats.objects)} read (${formatBytes(stats.bytesRead)}), ${formatCount(stats.damaged)} damaged, ${formatCount(stats.seqGaps)} missing ranges`,
    `  flows     ${formatCount(f.flowsOpened)} opened, ${formatCount(f.flowsClosed)} closed, ${formatCount(f.orphanRecords)} orphan records`,
    `  bytes     ${formatCount(f.bytesOut)} tapped bytes, ${formatCount(f.holes)} holes (${formatCount(f.gapHoleBytes + f.missingHoleBytes)} bytes), ${formatCount(f.duplicateBytes)} duplicate bytes dropped`,
    `  buffers   ${formatCount(f.forcedFlushesFlowCap + f.forcedFlushesTotalCap)} forced flushes (a buffer cap gave up on missing bytes)`,
    `  packets   ${formatCount(stats.packets.packets)} synthesised`,
    `  keys      ${formatCount(stats.keyLines)} key log lines`,
  ];
  config.outputs.forEach((url, i) => {
    const counter = stats.outputs[i]!;
    lines.push(`  output    ${redactUrl(url)}: ${formatCount(counter.packets)} packets, ${formatBytes(counter.bytes)}`);
  });
  return lines.join('\n') + '\n';
}

/** Output URLs hold no secrets today, but query strings may one day: show the path only. */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
