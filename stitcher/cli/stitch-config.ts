/**
 * The stitch command's settings, from flags and an optional JSON config file
 * (what the operator mounts from a ConfigMap). Flags win over the file.
 */
import { readFileSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from '../pipeline/log.js';
import { parseCount, parseDuration, parseSize, UsageError } from './usage-error.js';

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
  /** No progress line on stderr. */
  readonly quiet: boolean;
  readonly metricsPort?: number;
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
  config?: string;
  quiet?: boolean;
  'metrics-port'?: string;
}

/** The config file's shape (see docs/cli.md). */
interface ConfigFile {
  source?: string;
  keys?: string;
  credentials?: string;
  keysCredentials?: string;
  outputs?: string[];
  pollInterval?: string;
  logLevel?: string;
  metricsPort?: number;
}

export function resolveStitchConfig(flags: StitchFlags): StitchConfig {
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
    keysCredentials: flags['keys-credentials'] ?? file.keysCredentials,
    outputs,
    once: flags.once === true,
    pollIntervalMs: parseDuration(flags['poll-interval'] ?? file.pollInterval ?? '10s', '--poll-interval'),
    logLevel: logLevel as LogLevel,
    maxFlowBufferBytes: optionalSize(flags['max-flow-buffer'], '--max-flow-buffer'),
    maxTotalBufferBytes: optionalSize(flags['max-buffer'], '--max-buffer'),
    quiet: flags.quiet === true,
    metricsPort: metricsPort(flags['metrics-port'] ?? file.metricsPort),
  };
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`stitch: --config ${path} must hold a JSON object`);
  }
  return parsed as ConfigFile;
}
