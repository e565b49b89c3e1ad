/**
 * Who decides a CloudTap's shard count. The scale subresource reads and
 * writes `spec.sizing.shards`, so that field always holds the count in effect
 * (absent, `kubectl get --subresource=scale` would read 0, and a 1.37
 * apiserver refuses a scale whose spec replicas path is missing). While the
 * count is automatic (the sizing table's, from expectedThroughputMbps) the
 * operator server-side applies it under its own field manager; once anyone
 * else writes the field (kubectl scale, apply, edit, an autoscaler) the
 * apiserver's managedFields name them its owner, and their count stands.
 */
import type { CloudTap, ManagedFieldsEntry, Sizing } from '../api/types.js';
import { fieldManager } from './kube.js';

/** Whether the operator sizes this CloudTap's shard count itself: nobody set it, or only the operator did. */
export function shardCountIsAutomatic(cloudTap: CloudTap): boolean {
  if (cloudTap.spec.sizing?.shards === undefined) return true;
  const owners = (cloudTap.metadata.managedFields ?? []).filter(ownsShardCount);
  return owners.length > 0 && owners.every(isOperatorsApply);
}

/** The CloudTap as the operator sizes it: while the count is automatic, the count the operator wrote is not an input. */
export function sizedByOperator(cloudTap: CloudTap): CloudTap {
  if (!shardCountIsAutomatic(cloudTap) || cloudTap.spec.sizing?.shards === undefined) return cloudTap;
  const sizing = Object.fromEntries(Object.entries(cloudTap.spec.sizing).filter(([field]) => field !== 'shards')) as Sizing;
  return { ...cloudTap, spec: { ...cloudTap.spec, sizing } };
}

function ownsShardCount(entry: ManagedFieldsEntry): boolean {
  const sizing = (entry.fieldsV1?.['f:spec'] as Record<string, Record<string, unknown> | undefined> | undefined)?.['f:sizing'];
  return sizing?.['f:shards'] !== undefined;
}

function isOperatorsApply(entry: ManagedFieldsEntry): boolean {
  return entry.manager === fieldManager && entry.operation === 'Apply' && !entry.subresource;
}
