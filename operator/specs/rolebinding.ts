/** Binds the stitcher Role to the stitcher ServiceAccount. */
import type { V1RoleBinding } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { childMetadata, names } from './names.js';

export function buildRoleBinding(cloudTap: CloudTap): V1RoleBinding {
  const name = cloudTap.metadata.name;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: childMetadata(cloudTap, names.roleBinding(name)),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role(name) },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount(name), namespace: cloudTap.metadata.namespace }],
  };
}
