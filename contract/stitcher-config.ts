/**
 * The stitcher's config file (`cloudtap stitch --config FILE`), which the operator
 * writes into a ConfigMap. Every key is optional to the stitcher (flags may give
 * them and win); the operator always writes source, outputs and checkpoint.
 * An unknown key or a value of the wrong type is refused, so that a key one side
 * misspells fails at start, not silently.
 */

/**
 * How long (capture time) a TLS flow waits for its session keys when neither the
 * CloudTap nor a flag says: keys may land after the traffic they unlock.
 */
export const DEFAULT_KEY_WAIT_MS = 30_000;
/** The same default as the operator writes it into the config file (a duration). */
export const DEFAULT_KEY_WAIT = `${DEFAULT_KEY_WAIT_MS / 1000}s`;

export interface SelectionConfig {
  readonly users?: readonly string[];
  readonly ports?: readonly number[];
  readonly subnets?: readonly string[];
}

export interface StitcherConfigFile {
  /** A store URL (store-url.ts) or file:///abs/dir. */
  readonly source?: string;
  readonly keys?: string;
  /** Paths of credential files in the gateway's export format. */
  readonly credentials?: string;
  readonly keysCredentials?: string;
  /** Output URLs (output-url.ts). */
  readonly outputs?: readonly string[];
  /** Durations like 10s, 1m30s. */
  readonly pollInterval?: string;
  readonly logLevel?: string;
  readonly metricsPort?: number;
  readonly lookBack?: string;
  readonly keyWait?: string;
  readonly cleartextPorts?: string;
  readonly select?: SelectionConfig;
  /** `configmap://<namespace>/<cloudtap>` or file:///abs/dir. */
  readonly checkpoint?: string;
  readonly checkpointInterval?: string;
  readonly reorderWait?: string;
  readonly flowIdleTimeout?: string;
  /** Gateway time a flow's bytes wait for records that come out of order. */
  readonly reorderWindow?: string;
  /** The memory budget (`--max-buffer`), e.g. `200M`: the operator sets a share of the shard's memory. */
  readonly maxBuffer?: string;
  readonly leaseDuration?: string;
}

/** What the operator writes: the keys a shard cannot run without are required. */
export type OperatorStitcherConfig = StitcherConfigFile &
  Required<Pick<StitcherConfigFile, 'source' | 'outputs' | 'checkpoint' | 'pollInterval' | 'keyWait' | 'logLevel' | 'metricsPort'>>;

type Kind = 'string' | 'number' | 'strings' | 'select';
const KEYS: Readonly<Record<keyof StitcherConfigFile, Kind>> = {
  source: 'string', keys: 'string', credentials: 'string', keysCredentials: 'string', outputs: 'strings',
  pollInterval: 'string', logLevel: 'string', metricsPort: 'number', lookBack: 'string', keyWait: 'string',
  cleartextPorts: 'string', select: 'select', checkpoint: 'string', checkpointInterval: 'string',
  reorderWait: 'string', flowIdleTimeout: 'string', reorderWindow: 'string', maxBuffer: 'string', leaseDuration: 'string',
};

/** Every key the file may hold. */
export const STITCHER_CONFIG_KEYS = Object.keys(KEYS) as readonly (keyof StitcherConfigFile)[];

/**
 * Checks the parsed JSON of a config file. Values are checked for their type
 * here; what they mean (a URL, a duration) the stitcher checks where it uses them.
 * @param where names the file in errors
 * @throws Error `<where>: <key>: <what is wrong>` (never a value: it could be a path to a secret)
 */
export function checkStitcherConfig(value: unknown, where: string): StitcherConfigFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must hold a JSON object`);
  for (const [key, item] of Object.entries(value)) {
    const kind = (KEYS as Readonly<Record<string, Kind>>)[key];
    if (kind === undefined) throw new Error(`${where}: unknown key '${key}' (known: ${STITCHER_CONFIG_KEYS.join(', ')})`);
    const problem = typeProblem(kind, item);
    if (problem !== undefined) throw new Error(`${where}: ${key}: ${problem}`);
  }
  return value as StitcherConfigFile;
}

function typeProblem(kind: Kind, item: unknown): string | undefined {
  switch (kind) {
    case 'string': return typeof item === 'string' ? undefined : 'expected a string';
    case 'number': return typeof item === 'number' && Number.isInteger(item) ? undefined : 'expected a whole number';
    case 'strings': return isStrings(item) ? undefined : 'expected a list of strings';
    case 'select': return selectProblem(item);
  }
}

function selectProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'expected an object with users, ports, subnets';
  for (const [key, list] of Object.entries(item)) {
    if (key === 'users' || key === 'subnets') {
      if (!isStrings(list)) return `${key}: expected a list of strings`;
    } else if (key === 'ports') {
      if (!Array.isArray(list) || !list.every((port) => Number.isInteger(port) && port >= 1 && port <= 65535)) return 'ports: expected a list of port numbers';
    } else {
      return `unknown key '${key}' (known: users, ports, subnets)`;
    }
  }
  return undefined;
}

function isStrings(item: unknown): item is string[] {
  return Array.isArray(item) && item.every((entry) => typeof entry === 'string');
}
