/**
 * The string formats the CRD's CEL rules check (isCIDR, isIP, isQuantity,
 * isURL), checked again by the operator: a CloudTap admitted by an older CRD,
 * or written where CEL is off, must still get a condition naming the field
 * instead of a child the apiserver refuses or a stitcher that cannot start.
 */
import { isIP } from 'node:net';

const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dnsName = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*\.?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Kubernetes' resource.Quantity grammar: a signed decimal, then a binary or decimal SI suffix or an exponent.
const quantity = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** A Service name: DNS-1035 (starts with a letter), at most 63 characters. */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && dns1035Label.test(value);
}

/** A Secret or ConfigMap name. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && dns1123Subdomain.test(value);
}

/** An IPv4 or IPv6 address, or a DNS name: what a stitcher can resolve and send to. */
export function isHost(value: string): boolean {
  return isIP(value) !== 0 || (value.length <= 253 && dnsName.test(value));
}

/** An address and a prefix no longer than the address (10.0.0.0/8, fd00::/8), as CEL's isCIDR. */
export function isCidr(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A Kubernetes quantity (500m, 2, 512Mi, 1e3); a number is one too. */
export function isQuantity(value: string | number): boolean {
  return typeof value === 'number' ? Number.isFinite(value) && value >= 0 : quantity.test(value);
}

/** An http(s) URL with a host. */
export function isEndpointUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
