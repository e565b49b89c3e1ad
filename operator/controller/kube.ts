/**
 * The operator's view of the Kubernetes API through @kubernetes/client-node:
 * generic object calls, the CloudTap status subresource, the shard count it
 * applies while it owns it (shard-count.ts) and watches. Status
 * is written with an explicit merge-patch content type: the client's default
 * (JSON patch) is not what a status write needs.
 */
import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { group, plural, version, type CloudTapStatus } from '../api/types.js';

export const fieldManager = 'cloudtap-operator';

/** A merge patch of the status: null removes a field. */
export type StatusPatch = { -readonly [K in keyof CloudTapStatus]?: CloudTapStatus[K] | null };

export interface KubeApi {
  readonly config: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly watch: Watch;
  patchCloudTapStatus(namespace: string, name: string, status: StatusPatch, resourceVersion: string | undefined): Promise<void>;
  /** Server-side applies spec.sizing.shards as the operator's (no force: a 409 means someone else owns the count now). */
  applyCloudTapShards(namespace: string, name: string, shards: number): Promise<void>;
}

export function kubeApi(config: KubeConfig): KubeApi {
  const objects = KubernetesObjectApi.makeApiClient(config);
  const custom = config.makeApiClient(CustomObjectsApi);
  return {
    config,
    objects,
    watch: new Watch(config),
    async patchCloudTapStatus(namespace, name, status, resourceVersion) {
      const body = { metadata: resourceVersion ? { resourceVersion } : {}, status };
      await custom.patchNamespacedCustomObjectStatus(
        { group, version, plural, namespace, name, body, fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
    async applyCloudTapShards(namespace, name, shards) {
      const body = { apiVersion: `${group}/${version}`, kind: 'CloudTap', metadata: { name, namespace }, spec: { sizing: { shards } } };
      await custom.patchNamespacedCustomObject(
        { group, version, plural, namespace, name, body, fieldManager, force: false },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    },
  };
}

/** The HTTP status of a failed API call, when it was one. */
export function apiErrorCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown; statusCode?: unknown } | undefined)?.code ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A short description of a failed call, without the response body (it may echo a Secret). */
export function describeError(error: unknown): string {
  const code = apiErrorCode(error);
  if (error instanceof ApiException) {
    const message = statusMessage(error.body);
    return `HTTP ${code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The `message` of a Status body, parsed or as text. */
function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return '';
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

export function objectKey(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
