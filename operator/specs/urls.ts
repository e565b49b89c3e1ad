/**
 * The CloudTap's store locations and targets as the URLs the stitcher's config
 * takes, through the contract's builders (contract/output-url.ts), so that the
 * operator cannot write a parameter the stitcher does not know.
 */
import type { StoreLocation, Target } from '../api/types.js';
import { defaultTarget } from '../api/defaults.js';
import { buildOutputUrl, type OutputSpec } from '../../contract/output-url.js';
import { buildStoreUrl } from '../../contract/store-url.js';

/** Where pcapVolume targets are mounted; one folder per target. */
export const pcapMountRoot = '/var/lib/cloudtap/pcap';

export function storeUrl(location: StoreLocation): string {
  return buildStoreUrl(location);
}

export function outputUrl(target: Target): string {
  return buildOutputUrl(outputSpec(target));
}

/**
 * The target as the contract describes outputs. The CRD defaults `mtu` on every
 * target, but only wire exports have one: capture files keep whole packets.
 */
export function outputSpec(target: Target): OutputSpec {
  const full = defaultTarget(target);
  const pipeline = { variant: full.variant ?? 'original', ...(full.remap ? { remap: full.remap } : {}) };
  switch (full.type) {
    case 'vxlan':
    case 'geneve':
    case 'pcapOverIp':
      return {
        kind: 'wire',
        scheme: full.type === 'pcapOverIp' ? 'pcap-over-ip' : full.type,
        host: full.host ?? '',
        ...(full.port !== undefined ? { port: full.port } : {}),
        ...(full.vni !== undefined ? { vni: full.vni } : {}),
        ...(full.mtu !== undefined ? { mtu: full.mtu } : {}),
        ...(full.rate !== undefined ? { rate: full.rate } : {}),
        ...pipeline,
      };
    case 'pcapVolume':
      return { kind: 'folder', format: 'pcapng', folder: `${pcapMountRoot}/${full.name}/`, rotateSize: full.rotateSize ?? '100M', ...pipeline };
    case 'pcapBucket':
      return { kind: 'bucket', format: 'pcapng', store: full.store!, rotateSize: full.rotateSize ?? '100M', ...pipeline };
  }
}
