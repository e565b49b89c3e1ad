/**
 * What a stitcher may do in the API: hold its shard's Lease and keep its
 * shard's checkpoint ConfigMap. Nothing more. `create` cannot be limited by
 * name in RBAC, so it is granted on the kind; every other verb names objects.
 * Reading covers the checkpoints of every shard index a CloudTap may have had
 * (up to `maxShards`): after a re-shard, the new shards take their gateways
 * over from the old shards' checkpoints.
 */
import type { V1Role } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { childMetadata, names } from './names.js';
import { maxShards } from './sizing.js';

export function buildRole(cloudTap: CloudTap, shards: number): V1Role {
  const name = cloudTap.metadata.name;
  const indexes = Array.from({ length: shards }, (_, shard) => shard);
  const everIndexes = Array.from({ length: Math.max(shards, maxShards) }, (_, shard) => shard);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: childMetadata(cloudTap, names.role(name)),
    rules: [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: indexes.map((shard) => names.lease(name, shard)),
        verbs: ['get', 'update', 'patch'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: indexes.map((shard) => names.checkpoint(name, shard)),
        verbs: ['get', 'update', 'patch'],
      },
      // an empty resourceNames would mean every ConfigMap: only when there are old indexes
      ...(everIndexes.length > shards
        ? [{ apiGroups: [''], resources: ['configmaps'], resourceNames: everIndexes.slice(shards).map((shard) => names.checkpoint(name, shard)), verbs: ['get'] }]
        : []),
    ],
  };
}
