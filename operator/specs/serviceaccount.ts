/** The stitcher pods' own identity: cloud workload identity annotations go here. */
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { childMetadata, names } from './names.js';

export function buildServiceAccount(cloudTap: CloudTap): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMetadata(cloudTap, names.serviceAccount(cloudTap.metadata.name)),
    automountServiceAccountToken: true,
  };
}
