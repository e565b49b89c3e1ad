/**
 * Names, labels, keys and environment variables that the operator creates and
 * the stitcher looks up (or the other way round). The operator's Role grants
 * exactly these names, so a name that differs on one side is a 403 at run time.
 */

/** The Lease a shard holds while it exports. */
export function shardLeaseName(cloudTap: string, shard: number): string {
  return `${cloudTap}-shard-${shard}`;
}

/** The ConfigMap a shard keeps its checkpoint and its status report in. */
export function checkpointConfigMapName(cloudTap: string, shard: number): string {
  return `${cloudTap}-shard-${shard}-checkpoint`;
}

/** The checkpoint's key in that ConfigMap. */
export const CHECKPOINT_KEY = 'checkpoint.json';

/** The status report's key in that ConfigMap (see status-report.ts). */
export const STATUS_REPORT_KEY = 'status.json';

/** The labels a shard puts on its checkpoint ConfigMap; the operator watches by them. */
export function checkpointLabels(cloudTap: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'cloudtap', 'app.kubernetes.io/instance': cloudTap, 'app.kubernetes.io/component': 'checkpoint' };
}

/** The label selector over every CloudTap's checkpoint ConfigMaps. */
export const CHECKPOINT_SELECTOR = 'app.kubernetes.io/name=cloudtap,app.kubernetes.io/component=checkpoint';

/** `configmap://<namespace>/<cloudtap>`: where a shard in a cluster checkpoints. */
export function configMapCheckpointUrl(namespace: string, cloudTap: string): string {
  return `configmap://${namespace}/${cloudTap}`;
}

/** Where the shard's config file is mounted, and its key in the config ConfigMap. */
export const CONFIG_DIR = '/etc/cloudtap';
export const CONFIG_KEY = 'config.json';
export const CONFIG_PATH = `${CONFIG_DIR}/${CONFIG_KEY}`;

/**
 * The shard's environment. The operator sets index and modulus (contract/shard-assignment.ts) and the
 * pod fields; count is for a stitcher run by hand (`cloudtap stitch` reads SHARD_COUNT too).
 */
export const SHARD_ENV = { index: 'SHARD_INDEX', modulus: 'SHARD_MODULUS', count: 'SHARD_COUNT', podName: 'POD_NAME', podNamespace: 'POD_NAMESPACE', ownerUid: 'CLOUDTAP_UID' } as const;

export interface ShardOwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * What a shard puts on the checkpoint ConfigMap and the Lease it creates, so that the garbage
 * collector deletes them with their CloudTap. Not a controller reference and not blocking
 * (that would need update on cloudtaps/finalizers, which a shard does not hold).
 */
export function shardOwnerReferences(cloudTap: string, uid: string | undefined): ShardOwnerReference[] {
  return uid ? [{ apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', name: cloudTap, uid }] : [];
}

/** The stitcher's command line in a shard pod: everything else comes from the config file. */
export const SHARD_COMMAND: readonly string[] = ['cloudtap'];
export const SHARD_ARGS: readonly string[] = ['stitch', '--config', CONFIG_PATH];

/** The port the stitcher serves /metrics and its probes on in a pod. */
export const METRICS_PORT = 9090;

/** The stitcher's probe paths, which the shard Deployment's liveness and readiness probes call. */
export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';
