/**
 * Names and labels of everything the operator creates for a CloudTap. The
 * CRD limits CloudTap names to 40 characters so these all stay valid.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import { apiVersion, kind, type CloudTap } from '../api/types.js';
import { checkpointConfigMapName, CONFIG_DIR, CONFIG_KEY, METRICS_PORT, shardLeaseName } from '../../contract/names.js';

export const shardLabel = 'cloudtap.io/shard';
export const hashAnnotation = 'cloudtap.io/inputs-hash';
export const configHashAnnotation = 'cloudtap.io/config-hash';
export const managedBy = 'cloudtap-operator';

export const configKey = CONFIG_KEY;
export const configDir = CONFIG_DIR;
export const metricsPort = METRICS_PORT;

export const names = {
  deployment: (cloudTap: string, shard: number) => `${cloudTap}-shard-${shard}`,
  config: (cloudTap: string) => `${cloudTap}-config`,
  serviceAccount: (cloudTap: string) => `${cloudTap}-stitcher`,
  role: (cloudTap: string) => `${cloudTap}-stitcher`,
  roleBinding: (cloudTap: string) => `${cloudTap}-stitcher`,
  metricsService: (cloudTap: string) => `${cloudTap}-metrics`,
  /** The stitcher looks these two up by the contract's names. */
  lease: shardLeaseName,
  checkpoint: checkpointConfigMapName,
};

/** Labels on every child; the selector labels are a subset of these. */
export function labelsOf(cloudTap: CloudTap): Record<string, string> {
  return { ...selectorOf(cloudTap), 'app.kubernetes.io/managed-by': managedBy };
}

/** The labels that pick all stitcher pods of one CloudTap. */
export function selectorOf(cloudTap: CloudTap): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'cloudtap',
    'app.kubernetes.io/instance': cloudTap.metadata.name,
    'app.kubernetes.io/component': 'stitcher',
  };
}

/** The selector as the string the scale subresource reports. */
export function selectorString(cloudTap: CloudTap): string {
  return Object.entries(selectorOf(cloudTap))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** A controller reference to the CloudTap, when it has a uid (it does once stored). */
export function ownerReferencesOf(cloudTap: CloudTap): V1OwnerReference[] | undefined {
  const uid = cloudTap.metadata.uid;
  if (uid === undefined) return undefined;
  return [{ apiVersion, kind, name: cloudTap.metadata.name, uid, controller: true, blockOwnerDeletion: true }];
}

/** The metadata every child starts from. */
export function childMetadata(cloudTap: CloudTap, name: string, extraLabels: Record<string, string> = {}) {
  const ownerReferences = ownerReferencesOf(cloudTap);
  return {
    name,
    namespace: cloudTap.metadata.namespace,
    labels: { ...labelsOf(cloudTap), ...extraLabels },
    ...(ownerReferences ? { ownerReferences } : {}),
  };
}
