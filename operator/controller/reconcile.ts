/**
 * One reconcile of one CloudTap, as a checklist with early returns: a valid
 * spec, usable credentials, every child as desired, no surplus shards, then
 * the status. Each step that cannot go on says why in a condition.
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import type { ConditionUpdate } from '../api/conditions.js';
import type { CloudTap } from '../api/types.js';
import { describeProblems, validateName, validateSpec } from '../api/validate.js';
import { keysOf } from '../api/defaults.js';
import { desiredState, type SecretContents } from '../specs/desired.js';
import { builtInImagePolicy, imageProblem, type ImagePolicy } from '../specs/image.js';
import { selectorString, shardLabel } from '../specs/names.js';
import { applyChild, deleteChild, isOwnedBy } from './children.js';
import { checkCredentials, type CredentialsProblem } from './credentials.js';
import type { EventRecorder } from './events.js';
import { apiErrorCode, describeError, type KubeApi } from './kube.js';
import { shardCountIsAutomatic, sizedByOperator } from './shard-count.js';
import { reportedLoad, type ReportOptions } from './shard-reports.js';
import { degradedCondition, nextStatus, readyCondition, shardReadiness, writeStatus } from './status.js';

/** What reconcile reads: caches filled by the watches. */
export interface ClusterState {
  cloudTap(namespace: string, name: string): CloudTap | undefined;
  /** A Secret's data, read by name when a CloudTap names it (never listed or watched); undefined when absent. */
  secret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  child(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  deployments(namespace: string, instance: string): V1Deployment[];
  /** A shard's checkpoint ConfigMap (written by the stitcher, not owned by the CloudTap). */
  checkpoint(namespace: string, name: string): V1ConfigMap | undefined;
}

export interface ReconcileResult {
  /** Look again after this long even without an event (waiting for something). */
  readonly requeueAfterMs?: number;
  /** How many objects were written (children, status, deletions). */
  readonly writes: number;
}

const done: ReconcileResult = { writes: 0 };

/** @param reports how the shards' throughput and lag reports are judged */
/** @param images the operator's stitcher image and whether a CloudTap may name another */
export async function reconcile(
  api: KubeApi, state: ClusterState, events: EventRecorder, key: string, reports: ReportOptions = {}, images: ImagePolicy = builtInImagePolicy,
): Promise<ReconcileResult> {
  const [namespace, name] = key.split('/') as [string, string];
  const cloudTap = state.cloudTap(namespace, name);
  if (!cloudTap || cloudTap.metadata.deletionTimestamp) return done; // children go with it (ownerReferences)

  const problems = [...validateName(name), ...validateSpec(cloudTap.spec)];
  if (problems.length > 0) {
    const message = `fix the spec: ${describeProblems(problems)}`;
    await events.record(cloudTap, 'Warning', 'InvalidSpec', message);
    return statusOnly(api, cloudTap, [
      { type: 'Reconciled', status: 'False', reason: 'InvalidSpec', message },
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'the spec is invalid, see Reconciled' },
    ]);
  }

  const refusedImage = imageProblem(cloudTap, images);
  if (refusedImage) {
    await events.record(cloudTap, 'Warning', 'ImageOverrideNotAllowed', refusedImage);
    return statusOnly(api, cloudTap, [
      { type: 'Reconciled', status: 'False', reason: 'ImageOverrideNotAllowed', message: refusedImage },
      { type: 'Ready', status: 'False', reason: 'ImageOverrideNotAllowed', message: 'the spec names an image this operator may not run, see Reconciled' },
    ]);
  }

  const credentials = await readCredentials(state, cloudTap);
  if ('problem' in credentials) {
    const { reason, message } = credentials.problem;
    await events.record(cloudTap, 'Warning', reason, message);
    return statusOnly(api, cloudTap, [
      { type: 'CredentialsValid', status: 'False', reason, message },
      { type: 'Ready', status: 'False', reason: 'CredentialsInvalid', message: 'the credentials are not usable, see CredentialsValid' },
    ]);
  }

  const desired = desiredState(sizedByOperator(cloudTap), credentials.secrets, images);
  let writes = await applyAutomaticShardCount(api, events, cloudTap, desired.shards);
  const written: string[] = [];
  for (const object of desired.objects) {
    const live = state.child(object.kind!, namespace, object.metadata!.name!);
    let outcome;
    try {
      outcome = await applyChild(api, cloudTap, object, live);
    } catch (error) {
      // The apiserver's refusal (quota, admission, a name it rejects) is what the user must fix:
      // say it where they look (status, describe), then fail so the queue retries with backoff.
      const message = `could not write ${object.kind} ${namespace}/${object.metadata!.name}: ${describeError(error)}`;
      await events.record(cloudTap, 'Warning', 'ChildWriteFailed', message);
      await statusOnly(api, cloudTap, [
        { type: 'Reconciled', status: 'False', reason: 'ChildWriteFailed', message },
        { type: 'Ready', status: 'False', reason: 'ChildWriteFailed', message: 'a child object could not be written, see Reconciled' },
      ]).catch(() => undefined);
      throw new Error(message, { cause: error });
    }
    if (outcome === 'notOwned') {
      const message = `${object.kind} ${namespace}/${object.metadata!.name} exists and is not owned by this CloudTap; delete or rename it`;
      await events.record(cloudTap, 'Warning', 'ChildNotOwned', message);
      return statusOnly(api, cloudTap, [{ type: 'Reconciled', status: 'False', reason: 'ChildNotOwned', message }]);
    }
    if (outcome !== 'unchanged') written.push(`${outcome} ${object.kind} ${object.metadata!.name}`);
  }
  if (written.length > 0) {
    writes += written.length;
    await events.record(cloudTap, 'Normal', 'Applied', `${written.join(', ')} (inputs ${desired.configHash})`);
  }

  const deployments = state.deployments(namespace, name).filter((deployment) => isOwnedBy(deployment, cloudTap));
  for (const surplus of deployments.filter((deployment) => Number(deployment.metadata?.labels?.[shardLabel]) >= desired.shards)) {
    try {
      await deleteChild(api, surplus);
    } catch (error) {
      const message = `could not delete surplus Deployment ${namespace}/${surplus.metadata?.name}: ${describeError(error)}`;
      await events.record(cloudTap, 'Warning', 'ChildWriteFailed', message);
      await statusOnly(api, cloudTap, [{ type: 'Reconciled', status: 'False', reason: 'ChildWriteFailed', message }]).catch(() => undefined);
      throw new Error(message, { cause: error });
    }
    writes++;
    await events.record(cloudTap, 'Normal', 'ScaledIn', `deleted ${surplus.metadata?.name}: ${desired.shards} shards wanted`);
  }

  const readiness = shardReadiness(deployments, desired.shards, desired.configHash);
  const load = reportedLoad(cloudTap, desired.shards, (checkpoint) => state.checkpoint(namespace, checkpoint), reports);
  const fields = {
    shards: desired.shards,
    readyShards: readiness.readyShards,
    selector: selectorString(cloudTap),
    // Absent without a fresh report: writeStatus removes a stored number nothing backs any more.
    throughputMbps: load.throughputMbps,
    lagSeconds: load.lagSeconds,
  };
  const status = nextStatus(cloudTap, fields, [
    { type: 'Reconciled', status: 'True', reason: 'ReconcileSucceeded', message: `${desired.objects.length} objects up to date` },
    credentials.condition,
    readyCondition(readiness, load.stalled),
    degradedCondition(readiness, load.stalled),
  ]);
  if (await writeStatus(api, cloudTap, status)) writes++;
  // Fresh reports go stale without any event: look again when the first one would.
  return load.recheckAfterMs === undefined ? { writes } : { writes, requeueAfterMs: load.recheckAfterMs };
}

/** While the count is automatic, spec.sizing.shards (the scale subresource's) says the count in effect. @returns writes */
async function applyAutomaticShardCount(api: KubeApi, events: EventRecorder, cloudTap: CloudTap, shards: number): Promise<number> {
  if (!shardCountIsAutomatic(cloudTap) || cloudTap.spec.sizing?.shards === shards) return 0;
  const { namespace, name } = cloudTap.metadata;
  try {
    await api.applyCloudTapShards(namespace, name, shards);
    return 1;
  } catch (error) {
    // Someone scaled between the read and this write: the field is theirs, and their write brings the next reconcile.
    if (apiErrorCode(error) === 409) return 0;
    const message = `could not write spec.sizing.shards of ${namespace}/${name}: ${describeError(error)}`;
    await events.record(cloudTap, 'Warning', 'ChildWriteFailed', message);
    throw new Error(message, { cause: error });
  }
}

async function statusOnly(api: KubeApi, cloudTap: CloudTap, updates: ConditionUpdate[]): Promise<ReconcileResult> {
  const written = await writeStatus(api, cloudTap, nextStatus(cloudTap, {}, updates));
  return { writes: written ? 1 : 0 };
}

type CredentialsResult = { readonly secrets: SecretContents; readonly condition: ConditionUpdate } | { readonly problem: CredentialsProblem };

/** The referenced Secrets, read only from the CloudTap's own namespace. */
async function readCredentials(state: ClusterState, cloudTap: CloudTap): Promise<CredentialsResult> {
  const { namespace } = cloudTap.metadata;
  const secrets: Record<string, Readonly<Record<string, string>>> = {};
  const stores = [
    { field: 'spec.source.credentialsSecretRef', store: cloudTap.spec.source },
    ...(cloudTap.spec.keys ? [{ field: 'spec.keys.credentialsSecretRef', store: keysOf(cloudTap.spec) }] : []),
  ];
  let referenced = 0;
  for (const { field, store } of stores) {
    const ref = store.credentialsSecretRef;
    if (!ref) continue;
    referenced++;
    const data = await state.secret(namespace, ref.name);
    const problem = checkCredentials(store.provider, ref, data, field);
    if (problem) return { problem };
    secrets[ref.name] = data!;
  }
  const condition: ConditionUpdate =
    referenced > 0
      ? { type: 'CredentialsValid', status: 'True', reason: 'CredentialsFound', message: 'the referenced Secrets hold credentials for their providers' }
      : { type: 'CredentialsValid', status: 'True', reason: 'AmbientIdentity', message: 'no Secret referenced: the pods use their ambient cloud identity' };
  return { secrets, condition };
}
