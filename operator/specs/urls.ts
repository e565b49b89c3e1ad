/**
 * Store and output URLs in the form the stitcher's config takes
 * (`s3://bucket/prefix?region=R`, `vxlan://host:4789?vni=N`, ...).
 */
import type { StoreLocation, Target } from '../api/types.js';
import { defaultTarget } from '../api/defaults.js';

/** Where pcapVolume targets are mounted; one folder per target. */
export const pcapMountRoot = '/var/lib/cloudtap/pcap';

export function storeUrl(location: StoreLocation): string {
  const prefix = (location.prefix ?? '').replace(/^\/+/, '');
  const query = new URLSearchParams();
  if (location.region) query.set('region', location.region);
  if (location.endpoint) query.set('endpoint', location.endpoint);
  const base =
    location.provider === 'azure'
      ? `azblob://${location.account}/${location.bucket}/${prefix}`
      : `${location.provider === 's3' ? 's3' : 'gs'}://${location.bucket}/${prefix}`;
  return withQuery(base, query);
}

export function outputUrl(target: Target): string {
  const full = defaultTarget(target);
  const query = new URLSearchParams();
  switch (full.type) {
    case 'vxlan':
    case 'geneve':
    case 'pcapOverIp': {
      if (full.vni !== undefined) query.set('vni', String(full.vni));
      addPacketOptions(query, full, true);
      const scheme = full.type === 'pcapOverIp' ? 'pcap-over-ip' : full.type;
      return withQuery(`${scheme}://${hostPort(full.host ?? '', full.port)}`, query);
    }
    case 'pcapVolume':
      addPacketOptions(query, full, false);
      query.set('rotate-size', full.rotateSize ?? '100M');
      return withQuery(`pcapng://${pcapMountRoot}/${full.name}/`, query);
    case 'pcapBucket': {
      addPacketOptions(query, full, false);
      query.set('rotate-size', full.rotateSize ?? '100M');
      // The store URL may carry its own query (region, endpoint): merge them.
      const store = new URL(storeUrl(full.store!));
      for (const [key, value] of query) store.searchParams.set(key, value);
      return `pcapng+${store.toString()}`;
    }
  }
}

/** mtu= and rate= only for wire outputs (files take neither); one remap= per side, as the stitcher reads them. */
function addPacketOptions(query: URLSearchParams, target: Target, wire: boolean): void {
  if (wire) query.set('mtu', String(target.mtu));
  if (wire && target.rate !== undefined) query.set('rate', String(target.rate));
  query.set('variant', target.variant ?? 'original');
  for (const [side, cidr] of Object.entries(target.remap ?? {})) query.append('remap', `${side}:${cidr}`);
}

function hostPort(host: string, port: number | undefined): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? bracketed : `${bracketed}:${port}`;
}

function withQuery(base: string, query: URLSearchParams): string {
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}
