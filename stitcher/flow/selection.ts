/**
 * `--select`: the gateway's traffic-selection criteria applied again to
 * FLOW_OPEN records. The CLI form, one criterion per flag, repeatable:
 *
 *     --select user=*@corp.example,alice@*      identity globs (TLV user), * and ?, case-insensitive
 *     --select port=443,8443,8000-8099          destination (server) TCP ports and ranges
 *     --select subnet=10.0.0.0/8,fd00::/8       source (client) IPv4/IPv6 subnets
 *
 * Values within one criterion are alternatives (OR); different criteria must
 * all hold (AND); repeating a criterion adds alternatives. No criteria selects
 * every flow. A flow left out is counted under the first criterion it fails
 * (user, then port, then subnet): never silently dropped.
 */
import type { FlowOpenRecord } from '../format/records.js';
import type { Cidr } from './cidr.js';
import { cidrContains, parseCidr } from './cidr.js';

export interface SelectionCounts {
  selected: number;
  leftOutByUser: number;
  leftOutByPort: number;
  leftOutBySubnet: number;
}

export interface FlowSelection {
  /** True when the flow is to be stitched; counts every call. */
  matches(open: FlowOpenRecord): boolean;
  readonly counts: SelectionCounts;
  /** Flows left out so far, all criteria together. */
  readonly leftOut: number;
  /** The criteria as given, for the startup log. */
  readonly description: string;
}

interface Criteria {
  users: RegExp[];
  ports: [number, number][];
  subnets: Cidr[];
}

/**
 * Parses the values of every `--select` flag.
 * @throws Error `--select <spec>: ...` naming the criterion or value at fault
 */
export function parseSelection(specs: readonly string[]): FlowSelection {
  const criteria: Criteria = { users: [], ports: [], subnets: [] };
  for (const spec of specs) addCriterion(criteria, spec);
  return new Selection(criteria, specs.length === 0 ? 'all flows' : specs.join(' AND '));
}

function addCriterion(criteria: Criteria, spec: string): void {
  const equals = spec.indexOf('=');
  const name = equals < 0 ? spec : spec.slice(0, equals);
  const values = equals < 0 ? [] : spec.slice(equals + 1).split(',').map((value) => value.trim());
  if (values.length === 0 || values.some((value) => value === '')) {
    throw new Error(`--select ${spec}: expected ${name}=value[,value...]`);
  }
  try {
    switch (name) {
      case 'user':
        criteria.users.push(...values.map(globToRegExp));
        return;
      case 'port':
        criteria.ports.push(...values.map(parsePortRange));
        return;
      case 'subnet':
        criteria.subnets.push(...values.map(parseCidr));
        return;
      default:
        throw new Error(`unknown criterion ${name}, expected user, port or subnet`);
    }
  } catch (error) {
    throw new Error(`--select ${spec}: ${(error as Error).message}`, { cause: error });
  }
}

class Selection implements FlowSelection {
  readonly counts: SelectionCounts = { selected: 0, leftOutByUser: 0, leftOutByPort: 0, leftOutBySubnet: 0 };

  constructor(
    private readonly criteria: Criteria,
    readonly description: string,
  ) {}

  get leftOut(): number {
    return this.counts.leftOutByUser + this.counts.leftOutByPort + this.counts.leftOutBySubnet;
  }

  matches(open: FlowOpenRecord): boolean {
    const { users, ports, subnets } = this.criteria;
    if (users.length > 0) {
      const user = open.tags.user;
      if (user === undefined || !users.some((glob) => glob.test(user))) {
        this.counts.leftOutByUser++;
        return false;
      }
    }
    if (ports.length > 0 && !ports.some(([low, high]) => open.serverPort >= low && open.serverPort <= high)) {
      this.counts.leftOutByPort++;
      return false;
    }
    if (subnets.length > 0 && !subnets.some((subnet) => cidrContains(subnet, open.clientIp))) {
      this.counts.leftOutBySubnet++;
      return false;
    }
    this.counts.selected++;
    return true;
  }
}

/** `*` any run of characters, `?` exactly one; everything else literal; whole string, any case. */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.replace(/[.+^${}()|[\]\\*?]/g, (char) => (char === '*' ? '.*' : char === '?' ? '.' : `\\${char}`));
  return new RegExp(`^${pattern}$`, 'isu');
}

function parsePortRange(text: string): [number, number] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const low = match ? Number(match[1]) : NaN;
  const high = match?.[2] !== undefined ? Number(match[2]) : low;
  if (!(low >= 1 && high <= 65535 && low <= high)) throw new Error(`port ${text}: expected 1-65535 or a range low-high`);
  return [low, high];
}
