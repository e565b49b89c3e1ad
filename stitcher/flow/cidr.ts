/**
 * IPv4 and IPv6 addresses as raw bytes (the form FLOW_OPEN carries them in) and
 * CIDR prefixes over them, for `--select subnet=` and `remap=`.
 */
import { isIP } from 'node:net';

export interface Cidr {
  readonly family: 4 | 6;
  /** The network, 4 or 16 bytes, host bits cleared. */
  readonly network: Buffer;
  readonly prefixLength: number;
}

/**
 * `10.0.0.0/8`, `fd00::/8`; a bare address is a /32 or /128.
 * @throws Error naming the text when it is not an address or the length is out of range
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  const bits = address.length * 8;
  const lengthText = slash < 0 ? String(bits) : text.slice(slash + 1);
  const prefixLength = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!(prefixLength >= 0 && prefixLength <= bits)) {
    throw new Error(`${text}: prefix length ${lengthText} is not 0 to ${bits}`);
  }
  return { family: address.length === 4 ? 4 : 6, network: maskAddress(address, prefixLength), prefixLength };
}

/**
 * An IPv4 or IPv6 literal as 4 or 16 bytes in network order.
 * @throws Error naming the text when it is neither
 */
export function parseAddress(text: string): Buffer {
  const family = isIP(text);
  if (family === 4) return Buffer.from(text.split('.').map(Number));
  if (family !== 6) throw new Error(`${text}: not an IPv4 or IPv6 address`);
  return parseIpv6(text);
}

export function cidrContains(cidr: Cidr, address: Buffer): boolean {
  if (address.length !== cidr.network.length) return false;
  const whole = cidr.prefixLength >> 3;
  if (address.compare(cidr.network, 0, whole, 0, whole) !== 0) return false;
  const rest = cidr.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & mask) === cidr.network[whole];
}

export function formatAddress(address: Buffer): string {
  if (address.length === 4) return [...address].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(address.readUInt16BE(i).toString(16));
  // Not the shortest form (no ::), but valid and unambiguous; it is for messages and tests.
  return groups.join(':');
}

function maskAddress(address: Buffer, prefixLength: number): Buffer {
  const network = Buffer.from(address);
  for (let bit = prefixLength; bit < network.length * 8; bit++) network[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return network;
}

/** isIP has validated it already: expand `::` and a trailing dotted quad. */
function parseIpv6(text: string): Buffer {
  const withoutZone = text.split('%')[0]!;
  const [headText, tailText] = withoutZone.includes('::') ? withoutZone.split('::') : [withoutZone, undefined];
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const head = groups(headText);
  const tail = groups(tailText);
  const all = tailText === undefined ? head : [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const address = Buffer.alloc(16);
  all.forEach((group, index) => address.writeUInt16BE(group, index * 2));
  return address;
}
