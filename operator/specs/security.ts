/**
 * Restricted pod security (the Pod Security Standard "restricted"), which a
 * CloudTap may adjust (user, group, seccomp profile) but never lower.
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

/**
 * The restricted default with the user's user, group and seccomp profile. The fields
 * that would lower it are kept at the default even when set: validation refuses them,
 * and a CloudTap an older CRD admitted must not get such a pod either.
 */
export function containerSecurityContext(overrides: ContainerSecurityContext | undefined): V1SecurityContext {
  const context = structuredClone(restrictedContainer);
  if (!overrides) return context;
  if (overrides.runAsUser !== undefined && overrides.runAsUser !== 0) context.runAsUser = overrides.runAsUser;
  if (overrides.runAsGroup !== undefined) context.runAsGroup = overrides.runAsGroup;
  if (overrides.seccompProfile && overrides.seccompProfile.type !== 'Unconfined') context.seccompProfile = { ...overrides.seccompProfile };
  context.capabilities = { drop: [...new Set(['ALL', ...(overrides.capabilities?.drop ?? [])])] };
  return context;
}
