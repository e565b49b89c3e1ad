/**
 * Writing children: create what is missing, replace what differs (judged by
 * the content hash annotation, so unchanged objects are never written), and
 * never touch an object this CloudTap does not own.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CloudTap } from '../api/types.js';
import { hashAnnotation } from '../specs/names.js';
import { apiErrorCode, fieldManager, type KubeApi } from './kube.js';

export type ChildOutcome = 'created' | 'updated' | 'unchanged' | 'notOwned';

/** Whether `object` names this CloudTap as its controller. */
export function isOwnedBy(object: KubernetesObject, cloudTap: CloudTap): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === cloudTap.metadata.uid);
}

/**
 * @param live the object as the cache has it, undefined when the cache has none
 *   (the cache only holds objects carrying the operator's label)
 */
export async function applyChild(
  api: KubeApi,
  cloudTap: CloudTap,
  desired: KubernetesObject,
  live: KubernetesObject | undefined,
): Promise<ChildOutcome> {
  if (!live) {
    try {
      await api.objects.create(desired, undefined, undefined, fieldManager);
      return 'created';
    } catch (error) {
      if (apiErrorCode(error) !== 409) throw error;
      // It exists but the cache did not show it: someone else's object, or a cache lag.
      live = await api.objects.read(headerOf(desired));
    }
  }
  if (!isOwnedBy(live, cloudTap)) return 'notOwned';
  if (live.metadata?.annotations?.[hashAnnotation] === desired.metadata?.annotations?.[hashAnnotation]) return 'unchanged';
  await api.objects.replace(
    {
      ...desired,
      metadata: {
        ...desired.metadata,
        resourceVersion: live.metadata?.resourceVersion,
        labels: { ...live.metadata?.labels, ...desired.metadata?.labels },
        annotations: { ...live.metadata?.annotations, ...desired.metadata?.annotations },
      },
    },
    undefined,
    undefined,
    fieldManager,
  );
  return 'updated';
}

export async function deleteChild(api: KubeApi, object: KubernetesObject): Promise<void> {
  try {
    await api.objects.delete(headerOf(object), undefined, undefined, undefined, undefined, 'Background');
  } catch (error) {
    if (apiErrorCode(error) !== 404) throw error;
  }
}

function headerOf(object: KubernetesObject): KubernetesObject & { metadata: { name: string; namespace: string } } {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata?.name ?? '', namespace: object.metadata?.namespace ?? '' },
  };
}
