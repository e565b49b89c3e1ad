/**
 * IP remapping (`remap=client:100.64.0.0/10`, `remap=server:fd00:5::/64`): moves
 * tapped addresses into a range of the operator's choosing so they cannot
 * collide with the corporate ranges a sensor already watches. Applied to the
 * FLOW_OPEN record before synthesis, so every checksum comes out right.
 *
 * Deterministic: the host bits are a keyed hash (HMAC-SHA-256) of the original
 * address, so one address always maps to one address, across flows, restarts and
 * stitcher replicas that share the key; without the key the mapping cannot be
 * reversed by hashing candidate addresses. See docs/remap.md.
 */
import { createHmac } from 'node:crypto';
import type { FlowOpenRecord } from '../format/records.js';
import type { Cidr } from '../flow/cidr.js';
import { parseCidr } from '../flow/cidr.js';
import { splitRemapRule, type RemapSide } from '../../contract/output-url.js';

export type { RemapSide };

export interface RemapRule {
  readonly side: RemapSide;
  readonly into: Cidr;
}

export interface RemapperOptions {
  /** HMAC key; replicas that must agree share it. @default 'cloudtap-remap-v1' */
  readonly key?: string | Buffer;
  /** Addresses remembered per rule before the cache starts over. @default 65536 */
  readonly cacheSize?: number;
}

/**
 * `client:100.64.0.0/10` or `server:fd00::/8`.
 * @throws Error `remap <spec>: ...` naming what is wrong
 */
export function parseRemapRule(spec: string): RemapRule {
  const { side, cidr } = splitRemapRule(spec);
  try {
    return { side, into: parseCidr(cidr) };
  } catch (error) {
    throw new Error(`remap ${spec}: ${(error as Error).message}`, { cause: error });
  }
}

/** Undefined when there are no rules: callers skip remapping altogether. */
export function createRemapper(specs: readonly string[], options: RemapperOptions = {}): AddressRemapper | undefined {
  if (specs.length === 0) return undefined;
  return new AddressRemapper(specs.map(parseRemapRule), options);
}

export class AddressRemapper {
  private readonly key: Buffer;
  private readonly cacheSize: number;
  private readonly caches = new Map<RemapRule, Map<string, Buffer>>();

  /** @throws Error when two rules cover the same side and address family */
  constructor(
    readonly rules: readonly RemapRule[],
    options: RemapperOptions = {},
  ) {
    this.key = Buffer.from(options.key ?? 'cloudtap-remap-v1');
    this.cacheSize = options.cacheSize ?? 65536;
    const seen = new Set<string>();
    for (const rule of rules) {
      const slot = `${rule.side} IPv${rule.into.family}`;
      if (seen.has(slot)) throw new Error(`remap: two rules for the ${slot} addresses`);
      seen.add(slot);
    }
  }

  /** The FLOW_OPEN with its addresses remapped; the same object when no rule applies. */
  remapOpen(open: FlowOpenRecord): FlowOpenRecord {
    const clientIp = this.mapAddress('client', open.clientIp);
    const serverIp = this.mapAddress('server', open.serverIp);
    if (clientIp === open.clientIp && serverIp === open.serverIp) return open;
    return { ...open, clientIp, serverIp };
  }

  /** `address` (4 or 16 bytes) mapped by the rule for its side and family, else itself. */
  mapAddress(side: RemapSide, address: Buffer): Buffer {
    const family = address.length === 4 ? 4 : 6;
    const rule = this.rules.find((candidate) => candidate.side === side && candidate.into.family === family);
    if (!rule) return address;
    let cache = this.caches.get(rule);
    if (!cache) this.caches.set(rule, (cache = new Map()));
    const cacheKey = address.toString('hex');
    let mapped = cache.get(cacheKey);
    if (!mapped) {
      if (cache.size >= this.cacheSize) cache.clear();
      mapped = this.hashInto(rule.into, address);
      cache.set(cacheKey, mapped);
    }
    return mapped;
  }

  /**
   * Network bits from the prefix, host bits from HMAC(key, address). In IPv4
   * prefixes with room for it, the all-zeros and all-ones hosts (network and
   * broadcast) are skipped by hashing again with a counter.
   */
  private hashInto(into: Cidr, address: Buffer): Buffer {
    const hostBits = into.network.length * 8 - into.prefixLength;
    const avoidEnds = into.family === 4 && hostBits >= 2;
    for (let round = 0; ; round++) {
      const digest = createHmac('sha256', this.key).update(address).update(Buffer.of(round)).digest();
      const mapped = Buffer.from(into.network);
      for (let bit = into.prefixLength; bit < mapped.length * 8; bit++) {
        const mask = 0x80 >> (bit & 7);
        if (digest[bit >> 3]! & mask) mapped[bit >> 3]! |= mask;
      }
      if (!avoidEnds || !(hostPartIs(mapped, into.prefixLength, 0) || hostPartIs(mapped, into.prefixLength, 1))) {
        return mapped;
      }
    }
  }
}

function hostPartIs(address: Buffer, prefixLength: number, bitValue: 0 | 1): boolean {
  for (let bit = prefixLength; bit < address.length * 8; bit++) {
    if (((address[bit >> 3]! >> (7 - (bit & 7))) & 1) !== bitValue) return false;
  }
  return true;
}
