/**
 * Every object a CloudTap should have, in the order they are applied, each
 * with a hash of its own content in an annotation (compared before writing).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { configText, buildConfigMap } from './config.js';
import { buildShardDeployment } from './deployment.js';
import { hashOf } from './hash.js';
import { builtInImagePolicy, imageFor, type ImagePolicy } from './image.js';
import { hashAnnotation } from './names.js';
import { buildRole } from './role.js';
import { buildRoleBinding } from './rolebinding.js';
import { buildServiceAccount } from './serviceaccount.js';
import { buildMetricsService } from './service.js';
import { sizeFor } from './sizing.js';

/** The data of a Secret a CloudTap references (base64 values, as the API returns them). */
export type SecretContents = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface DesiredState {
  readonly shards: number;
  readonly configHash: string;
  /** ServiceAccount, Role, RoleBinding, ConfigMap, Service, then the Deployments by shard. */
  readonly objects: readonly KubernetesObject[];
}

/**
 * @param secrets the referenced Secrets' data by Secret name; only the keys the
 *   CloudTap names are hashed, so unrelated keys in a Secret do not roll pods.
 */
export function desiredState(cloudTap: CloudTap, secrets: SecretContents, images: ImagePolicy = builtInImagePolicy): DesiredState {
  const { shards } = sizeFor(cloudTap.spec.sizing);
  const configHash = hashOf({ config: configText(cloudTap), secrets: referencedSecretData(cloudTap, secrets) });
  const deployments = Array.from({ length: shards }, (_, shard) => buildShardDeployment(cloudTap, { shard, configHash, image: imageFor(cloudTap, images) }));
  const objects: KubernetesObject[] = [
    buildServiceAccount(cloudTap),
    buildRole(cloudTap, shards),
    buildRoleBinding(cloudTap),
    buildConfigMap(cloudTap),
    buildMetricsService(cloudTap),
    ...deployments,
  ];
  return { shards, configHash, objects: objects.map(withContentHash) };
}

function referencedSecretData(cloudTap: CloudTap, secrets: SecretContents): Record<string, string | null> {
  const refs = [cloudTap.spec.source.credentialsSecretRef, cloudTap.spec.keys?.credentialsSecretRef];
  const data: Record<string, string | null> = {};
  for (const ref of refs) {
    if (!ref) continue;
    const key = ref.key ?? 'credentials.json';
    data[`${ref.name}/${key}`] = secrets[ref.name]?.[key] ?? null;
  }
  return data;
}

/** Adds the content hash annotation, computed over everything but that annotation. */
export function withContentHash<T extends KubernetesObject>(object: T): T {
  const hash = hashOf(object);
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [hashAnnotation]: hash } },
  };
}
