/**
 * The CloudTap's status from what its children report: shards ready, and the
 * four conditions. Written only when it changed, through the one condition
 * helper that keeps lastTransitionTime unless a status flips.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { nowSeconds, setCondition, type ConditionUpdate } from '../api/conditions.js';
import type { CloudTap, CloudTapStatus, Condition } from '../api/types.js';
import { configHashAnnotation, shardLabel } from '../specs/names.js';
import { stableJson } from '../specs/hash.js';
import { describeError, type KubeApi, type StatusPatch } from './kube.js';

export interface ShardReadiness {
  readonly shards: number;
  readonly readyShards: number;
  /** A shard whose Deployment reports a failure, as "shard 1: reason". */
  readonly failing: readonly string[];
}

/** A shard is ready when its Deployment rolled out the current template and has a ready pod. */
export function shardReadiness(deployments: readonly V1Deployment[], shards: number, configHash: string): ShardReadiness {
  let readyShards = 0;
  const failing: string[] = [];
  for (const deployment of deployments) {
    const shard = Number(deployment.metadata?.labels?.[shardLabel]);
    if (!(shard < shards)) continue;
    const status = deployment.status;
    const current =
      deployment.spec?.template.metadata?.annotations?.[configHashAnnotation] === configHash &&
      (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1);
    if (current && (status?.readyReplicas ?? 0) >= 1) readyShards++;
    const failure = status?.conditions?.find(
      (condition) => (condition.type === 'ReplicaFailure' && condition.status === 'True') || (condition.type === 'Progressing' && condition.reason === 'ProgressDeadlineExceeded'),
    );
    if (failure) failing.push(`shard ${shard}: ${failure.reason ?? failure.type}${failure.message ? ` (${failure.message})` : ''}`);
  }
  return { shards, readyShards, failing };
}

/** Applies condition updates and fields to the current status; the generation observed is the CloudTap's. */
export function nextStatus(cloudTap: CloudTap, fields: Partial<CloudTapStatus>, updates: readonly ConditionUpdate[], now = nowSeconds()): CloudTapStatus {
  const generation = cloudTap.metadata.generation;
  let conditions: Condition[] | undefined = cloudTap.status?.conditions ? [...cloudTap.status.conditions] : undefined;
  for (const update of updates) conditions = setCondition(conditions, update, generation, now);
  return {
    ...cloudTap.status,
    ...fields,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    ...(conditions ? { conditions } : {}),
  };
}

/**
 * Writes the status when it differs from the stored one; a field stored but
 * absent (or undefined) in `status` is removed. @returns whether it wrote
 */
export async function writeStatus(api: KubeApi, cloudTap: CloudTap, status: CloudTapStatus): Promise<boolean> {
  if (stableJson(status) === stableJson(cloudTap.status ?? {})) return false;
  const { namespace, name, resourceVersion } = cloudTap.metadata;
  // A merge patch keeps what it does not name: null removes.
  const patch: StatusPatch = { ...status };
  for (const key of Object.keys(cloudTap.status ?? {}) as (keyof CloudTapStatus)[]) {
    if (status[key] === undefined) patch[key] = null;
  }
  try {
    await api.patchCloudTapStatus(namespace, name, patch, resourceVersion);
  } catch (error) {
    throw new Error(`while writing the status of CloudTap ${namespace}/${name}: ${describeError(error)}`, { cause: error });
  }
  return true;
}

/**
 * Ready only when every shard's pod is ready and no shard has stopped reporting: a shard
 * that exports nothing while its pod looks healthy is not ready (and Degraded says why).
 * @param stalled as for degradedCondition
 */
export function readyCondition(readiness: ShardReadiness, stalled: readonly string[] = []): ConditionUpdate {
  const message = `${readiness.readyShards}/${readiness.shards} shards ready`;
  if (readiness.readyShards < readiness.shards) return { type: 'Ready', status: 'False', reason: 'ShardsNotReady', message };
  if (stalled.length > 0) return { type: 'Ready', status: 'False', reason: 'ShardNotReporting', message: `${message}, but ${stalled.length} not reporting: see Degraded` };
  return { type: 'Ready', status: 'True', reason: 'AllShardsReady', message };
}

/**
 * Degraded when a shard's Deployment reports a failure (ShardFailing) or a
 * shard stopped reporting its throughput and lag (ShardNotReporting).
 * @param stalled shards whose status report is stale or unreadable, as "shard 1: reason"
 */
export function degradedCondition(readiness: ShardReadiness, stalled: readonly string[] = []): ConditionUpdate {
  if (readiness.failing.length > 0) {
    return { type: 'Degraded', status: 'True', reason: 'ShardFailing', message: [...readiness.failing, ...stalled].join('; ') };
  }
  if (stalled.length > 0) return { type: 'Degraded', status: 'True', reason: 'ShardNotReporting', message: stalled.join('; ') };
  return { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no shard reports a failure' };
}
