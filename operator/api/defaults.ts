/**
 * The defaults the CRD schema applies, applied again here so that builders
 * never see an absent field (an older CRD, or an object built in a test).
 */
import { DEFAULT_KEY_WAIT } from '../../contract/stitcher-config.js';
import type { CloudTapSpec, StitcherOptions, Target, TargetType, StoreSource } from './types.js';

/** The operator's default stitcher image when its deployment names none (the chart always does). */
export const defaultImage = 'ghcr.io/cloudtap/cloudtap:0.1.0';
export const defaultCredentialsKey = 'credentials.json';
export const defaultThroughputMbps = 100;

export const defaultPorts: Readonly<Record<TargetType, number | undefined>> = {
  vxlan: 4789,
  geneve: 6081,
  pcapOverIp: 57012,
  pcapVolume: undefined,
  pcapBucket: undefined,
};

// No image: its default is the operator's (operator/specs/image.ts), not the CloudTap's.
export type DefaultedStitcher = Required<Omit<StitcherOptions, 'securityContext' | 'nodeSelector' | 'image' | 'podTemplate'>> &
  Pick<StitcherOptions, 'securityContext' | 'nodeSelector' | 'image' | 'podTemplate'>;

export function defaultStitcher(options: StitcherOptions | undefined): DefaultedStitcher {
  return {
    ...options,
    imagePullPolicy: options?.imagePullPolicy ?? 'IfNotPresent',
    pollInterval: options?.pollInterval ?? '10s',
    keyWait: options?.keyWait ?? DEFAULT_KEY_WAIT,
    logLevel: options?.logLevel ?? 'info',
  };
}

export function defaultTarget(target: Target): Target {
  const port = target.port ?? defaultPorts[target.type];
  const isFile = target.type === 'pcapVolume' || target.type === 'pcapBucket';
  return {
    ...target,
    ...(port === undefined ? {} : { port }),
    mtu: target.mtu ?? 1500,
    variant: target.variant ?? 'original',
    ...(isFile ? { rotateSize: target.rotateSize ?? '100M' } : {}),
  };
}

/** The key store: the one the user named, else the source. */
export function keysOf(spec: CloudTapSpec): StoreSource {
  return spec.keys ?? spec.source;
}

export function credentialsKey(source: StoreSource): string | undefined {
  const ref = source.credentialsSecretRef;
  return ref === undefined ? undefined : (ref.key ?? defaultCredentialsKey);
}
