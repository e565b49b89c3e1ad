/**
 * Restricted pod security (the Pod Security Standard "restricted"), merged
 * field by field with what the user asks, as CloudNativePG does.
 */
import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { ContainerSecurityContext } from '../api/types.js';

/** The image's non-root user (see Dockerfile). */
export const stitcherUid = 10001;

export const restrictedContainer: V1SecurityContext = {
  runAsNonRoot: true,
  runAsUser: stitcherUid,
  runAsGroup: stitcherUid,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const restrictedPod: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: stitcherUid,
  runAsGroup: stitcherUid,
  fsGroup: stitcherUid,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The restricted default with each field the user set replacing the default's. */
export function containerSecurityContext(overrides: ContainerSecurityContext | undefined): V1SecurityContext {
  if (!overrides) return structuredClone(restrictedContainer);
  return {
    ...structuredClone(restrictedContainer),
    ...structuredClone(overrides),
    capabilities: { ...restrictedContainer.capabilities, ...structuredClone(overrides.capabilities) },
    seccompProfile: overrides.seccompProfile ? { ...overrides.seccompProfile } : { type: 'RuntimeDefault' },
  } as V1SecurityContext;
}
