/**
 * The user's podTemplate merged into a shard's pod: scheduling and identity
 * fields are taken as given, labels and annotations never replace the
 * operator's (its selector and config hash), env never replaces the
 * operator's variables, and a CA bundle becomes a read-only volume that Node
 * trusts through NODE_EXTRA_CA_CERTS. Security fields are not offered.
 */
import type { V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { StitcherPodTemplate } from '../api/types.js';

export const caBundleDir = '/etc/cloudtap/ca';
const caBundleFile = 'ca.crt';

/** Variables the operator sets itself (contract/names.ts SHARD_ENV) or derives from caBundle. */
export const reservedEnvNames: readonly string[] = ['SHARD_INDEX', 'SHARD_MODULUS', 'SHARD_COUNT', 'POD_NAME', 'POD_NAMESPACE', 'CLOUDTAP_UID', 'NODE_EXTRA_CA_CERTS'];

/** Pod spec fields from the template (only those set). */
export function podSpecFields(template: StitcherPodTemplate | undefined): Partial<V1PodSpec> {
  if (!template) return {};
  return {
    ...(template.tolerations?.length ? { tolerations: template.tolerations.map((toleration) => ({ ...toleration })) } : {}),
    ...(template.affinity ? { affinity: structuredClone(template.affinity) as V1PodSpec['affinity'] } : {}),
    ...(template.topologySpreadConstraints?.length ? { topologySpreadConstraints: structuredClone(template.topologySpreadConstraints) as unknown as V1PodSpec['topologySpreadConstraints'] } : {}),
    ...(template.priorityClassName ? { priorityClassName: template.priorityClassName } : {}),
    ...(template.imagePullSecrets?.length ? { imagePullSecrets: template.imagePullSecrets.map(({ name }) => ({ name })) } : {}),
  };
}

/** The user's entries first, the operator's over them: the user cannot replace a selector label or the config hash. */
export function mergedMetadata(user: Readonly<Record<string, string>> | undefined, operator: Readonly<Record<string, string>>): Record<string, string> {
  return { ...user, ...operator };
}

export function extraEnv(template: StitcherPodTemplate | undefined): V1EnvVar[] {
  const env = (template?.env ?? []).filter((entry) => !reservedEnvNames.includes(entry.name)).map(({ name, value }) => ({ name, value }));
  if (template?.caBundle) env.push({ name: 'NODE_EXTRA_CA_CERTS', value: `${caBundleDir}/${caBundleFile}` });
  return env;
}

export function caBundleVolume(template: StitcherPodTemplate | undefined): V1Volume[] {
  const bundle = template?.caBundle;
  if (!bundle) return [];
  return [{ name: 'ca-bundle', configMap: { name: bundle.configMapName, items: [{ key: bundle.key ?? caBundleFile, path: caBundleFile }] } }];
}

export function caBundleMount(template: StitcherPodTemplate | undefined): V1VolumeMount[] {
  return template?.caBundle ? [{ name: 'ca-bundle', mountPath: caBundleDir, readOnly: true }] : [];
}
