/**
 * The stitch command's settings, from flags and an optional JSON config file
 * (what the operator mounts from a ConfigMap). Flags win over the file.
 */
import { readFileSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from '../observe/log.js';
import type { HourWindow } from '../ingest/object-feed.js';
import type { ShardSpec } from '../shard/shard.js';
import { parseCheckpointUrl } from '../checkpoint/checkpoint-store.js';
import { parseCount, parseDuration, parseSize, UsageError } from './usage-error.js';
import { checkStitcherConfig, DEFAULT_KEY_WAIT, type StitcherConfigFile } from '../../contract/stitcher-config.js';
import { MAX_SHARD_COUNT } from '../../contract/limits.js';
import { checkAssignment } from '../../contract/shard-assignment.js';
import { SHARD_ENV } from '../../contract/names.js';

export interface StitchConfig {
  readonly source: string;
  readonly keys?: string;
  readonly credentials?: string;
  readonly keysCredentials?: string;
  readonly outputs: readonly string[];
  readonly once: boolean;
  /** @default 10 s */
  readonly pollIntervalMs: number;
  /** @default 'info' */
  readonly logLevel: LogLevel;
  readonly maxFlowBufferBytes?: number;
  readonly maxTotalBufferBytes?: number;
  readonly maxOpenFlows?: number;
  /** No progress line on stderr. */
  readonly quiet: boolean;
  readonly metricsPort?: number;
  readonly hours: HourWindow;
  /** `--select` criteria (user=..., port=..., subnet=...). */
  readonly select: readonly string[];
  /** How long (capture time) a TLS flow waits for its keys. @default 30 s */
  readonly keyWaitMs: number;
  /** `443:80,...`: server ports of decrypted flows in the clear-text variant. @default 443:80 */
  readonly cleartextPorts: string;
  /** From --shard-index/--shard-count, else $SHARD_INDEX/$SHARD_COUNT. @default 0 of 1 */
  readonly shard: ShardSpec;
  /** How long a polling run waits for a missing <seq>. @default 5 min */
  readonly reorderWaitMs: number;
  /** A flow with no record for this long (its gateway's record time) is closed. @default 1 h */
  readonly flowIdleMs: number;
  /** Gateway time a flow's bytes wait for records that come out of order. @default 30 s */
  readonly reorderWindowMs: number;
  /** `file:///abs/dir` or `configmap://<namespace>/<cloudtap>`. @default none */
  readonly checkpoint?: string;
  /** @default 10 s */
  readonly checkpointIntervalMs: number;
  /** Lease duration in a cluster. @default 15 s */
  readonly leaseDurationSeconds: number;
}

/** What the flags said; undefined where a flag was absent. */
export interface StitchFlags {
  source?: string;
  keys?: string;
  credentials?: string;
  'keys-credentials'?: string;
  output?: string[];
  once?: boolean;
  'poll-interval'?: string;
  'log-level'?: string;
  'max-flow-buffer'?: string;
  'max-buffer'?: string;
  'max-open-flows'?: string;
  config?: string;
  quiet?: boolean;
  'metrics-port'?: string;
  'look-back'?: string;
  select?: string[];
  'key-wait'?: string;
  'cleartext-ports'?: string;
  from?: string;
  to?: string;
  'shard-index'?: string;
  'shard-count'?: string;
  'reorder-wait'?: string;
  'flow-idle-timeout'?: string;
  'reorder-window'?: string;
  checkpoint?: string;
  'checkpoint-interval'?: string;
  'lease-duration'?: string;
}

/** The config file's shape: the contract with the operator (contract/stitcher-config.ts). */
type ConfigFile = StitcherConfigFile;

/** @param env the process environment (SHARD_INDEX and SHARD_MODULUS as the operator sets them, or SHARD_COUNT) */
export function resolveStitchConfig(flags: StitchFlags, env: NodeJS.ProcessEnv = process.env): StitchConfig {
  const file = flags.config === undefined ? {} : readConfigFile(flags.config);
  const source = flags.source ?? file.source;
  if (source === undefined) throw new UsageError('stitch: --source <url> is required (e.g. file:///data/tap)');
  const outputs = flags.output ?? file.outputs ?? [];
  if (outputs.length === 0) throw new UsageError('stitch: at least one --output <url> is required (e.g. pcapng:///tmp/out.pcapng)');
  const logLevel = flags['log-level'] ?? file.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new UsageError(`stitch: --log-level '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    source,
    keys: flags.keys ?? file.keys,
    credentials: flags.credentials ?? file.credentials,
    keysCredentials: flags['keys-credentials'] ?? file.keysCredentials ?? sameProviderCredentials(source, flags.keys ?? file.keys, flags.credentials ?? file.credentials),
    outputs,
    once: flags.once === true,
    pollIntervalMs: parseDuration(flags['poll-interval'] ?? file.pollInterval ?? '10s', '--poll-interval'),
    logLevel: logLevel as LogLevel,
    maxFlowBufferBytes: optionalSize(flags['max-flow-buffer'], '--max-flow-buffer'),
    maxTotalBufferBytes: optionalSize(flags['max-buffer'] ?? file.maxBuffer, '--max-buffer'),
    maxOpenFlows: flags['max-open-flows'] === undefined ? undefined : positiveCount(flags['max-open-flows'], '--max-open-flows'),
    quiet: flags.quiet === true,
    metricsPort: metricsPort(flags['metrics-port'] ?? file.metricsPort),
    hours: hourWindow(flags, file, flags.once === true),
    select: flags.select ?? selectFromFile(file.select),
    keyWaitMs: parseDuration(flags['key-wait'] ?? file.keyWait ?? DEFAULT_KEY_WAIT, '--key-wait'),
    cleartextPorts: flags['cleartext-ports'] ?? file.cleartextPorts ?? '443:80',
    shard: shardOf(flags, env),
    reorderWaitMs: parseDuration(flags['reorder-wait'] ?? file.reorderWait ?? '5m', '--reorder-wait'),
    flowIdleMs: positiveDuration(flags['flow-idle-timeout'] ?? file.flowIdleTimeout ?? '1h', '--flow-idle-timeout'),
    reorderWindowMs: parseDuration(flags['reorder-window'] ?? file.reorderWindow ?? '30s', '--reorder-window'),
    checkpoint: checkpointUrl(flags.checkpoint ?? file.checkpoint),
    checkpointIntervalMs: positiveDuration(flags['checkpoint-interval'] ?? file.checkpointInterval ?? '10s', '--checkpoint-interval'),
    leaseDurationSeconds: positiveDuration(flags['lease-duration'] ?? file.leaseDuration ?? '15s', '--lease-duration') / 1000,
  };
}

/**
 * Flags win over the environment; both or neither of index and count. The
 * operator sets SHARD_INDEX and SHARD_MODULUS (contract/shard-assignment.ts),
 * never the count, so that a scale leaves the shards that keep their gateways
 * alone: a shard of modulus m owns what shard `index` of m shards owns.
 */
function shardOf(flags: StitchFlags, env: NodeJS.ProcessEnv): ShardSpec {
  const indexText = flags['shard-index'] ?? env[SHARD_ENV.index];
  const modulusText = flags['shard-count'] === undefined ? env[SHARD_ENV.modulus] : undefined;
  const countText = flags['shard-count'] ?? env[SHARD_ENV.count] ?? modulusText;
  if (indexText === undefined && countText === undefined) return { index: 0, count: 1 };
  if (indexText === undefined || countText === undefined) {
    throw new UsageError('stitch: --shard-index and --shard-count go together (or SHARD_INDEX and SHARD_COUNT or SHARD_MODULUS)');
  }
  const count = parseCount(countText, modulusText === undefined ? '--shard-count' : SHARD_ENV.modulus, 1, MAX_SHARD_COUNT);
  const index = parseCount(indexText, '--shard-index', 0, count - 1);
  if (modulusText !== undefined) {
    try {
      checkAssignment({ index, modulus: count });
    } catch (error) {
      throw new UsageError(`stitch: ${SHARD_ENV.modulus}: ${(error as Error).message}`);
    }
  }
  return { index, count };
}

function checkpointUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    parseCheckpointUrl(url);
  } catch (error) {
    throw new UsageError(`stitch: --checkpoint: ${(error as Error).message}`);
  }
  return url;
}

function positiveDuration(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms <= 0) throw new UsageError(`${what}: '${text}' must be longer than zero`);
  return ms;
}

/**
 * A backfill lists the hours from --from to --to; a live stitcher lists a
 * look-back window (default 3h); a one-off run without either lists every hour.
 */
function hourWindow(flags: StitchFlags, file: ConfigFile, once: boolean): HourWindow {
  if (flags.from !== undefined || flags.to !== undefined) {
    const from = parseTime(flags.from, '--from') ?? new Date(0);
    const to = parseTime(flags.to, '--to') ?? new Date();
    if (to < from) throw new UsageError(`stitch: --to ${to.toISOString()} is before --from ${from.toISOString()}`);
    return { kind: 'range', from, to };
  }
  const lookBack = flags['look-back'] ?? file.lookBack;
  if (lookBack === undefined && once) return { kind: 'all' };
  return { kind: 'look-back', ms: parseDuration(lookBack ?? '3h', '--look-back') };
}

function parseTime(text: string | undefined, what: string): Date | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) throw new UsageError(`stitch: ${what} '${text}' is not a time (use e.g. 2026-11-25T14:00Z)`);
  return time;
}

/** The operator's `select` object as --select specs. */
function selectFromFile(select: ConfigFile['select']): string[] {
  if (select === undefined) return [];
  const specs: string[] = [];
  if (select.users !== undefined && select.users.length > 0) specs.push(`user=${select.users.join(',')}`);
  if (select.ports !== undefined && select.ports.length > 0) specs.push(`port=${select.ports.join(',')}`);
  if (select.subnets !== undefined && select.subnets.length > 0) specs.push(`subnet=${select.subnets.join(',')}`);
  return specs;
}

/** Keys in the same kind of store as the traffic default to its credentials (one gateway export serves both). */
function sameProviderCredentials(source: string, keys: string | undefined, credentials: string | undefined): string | undefined {
  if (keys === undefined || credentials === undefined) return undefined;
  const scheme = (url: string): string => url.slice(0, url.indexOf(':'));
  return scheme(keys) === scheme(source) ? credentials : undefined;
}

function metricsPort(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : parseCount(String(value), '--metrics-port', 1, 65535);
}

function optionalSize(text: string | undefined, what: string): number | undefined {
  return text === undefined ? undefined : parseSize(text, what);
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`stitch: cannot read --config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`stitch: --config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return checkStitcherConfig(parsed, `stitch: --config ${path}`);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveCount(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`stitch: ${what} '${text}' is not a whole number of at least 1`);
  return value;
}
