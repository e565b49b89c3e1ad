/**
 * What a shard needs from its surroundings, from the checkpoint URL: a
 * folder of checkpoint files on one machine, or in a cluster the shard's
 * checkpoint ConfigMap and its Lease (`<cloudtap>-shard-<i>`), reached with
 * the pod's service account (or KUBECONFIG outside a cluster). The Kubernetes
 * client is loaded only then: it takes a while to load, and a stitcher must be
 * quick to start (and to answer SIGTERM).
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { FileCheckpointStore, parseCheckpointUrl, type CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { ShardLease } from './lease.js';
import type { Logger } from '../observe/log.js';
import type { ShardSpec } from '../shard/shard.js';
import { SHARD_ENV, shardLeaseName, shardOwnerReferences } from '../../contract/names.js';

export interface ShardServicesOptions {
  /** `file:///abs/dir` or `configmap://<namespace>/<cloudtap name>`. */
  readonly checkpointUrl: string;
  readonly shard: ShardSpec;
  /** This pod among claimants of the Lease. @default $POD_NAME, else host name and process id */
  readonly identity?: string;
  /** @default 15 */
  readonly leaseDurationSeconds?: number;
  readonly logger: Logger;
  /** @default KubeConfig.loadFromDefault() (in-cluster, or KUBECONFIG) */
  readonly kubeConfig?: KubeConfig;
  /** The CloudTap's uid, owner of the checkpoint and Lease. @default $CLOUDTAP_UID (set by the operator) */
  readonly ownerUid?: string;
}

export interface ShardServices {
  readonly store: CheckpointStore;
  /** Only in a cluster (ConfigMap checkpoints). */
  readonly lease: ShardLease | undefined;
}

/** The operator's Role grants this name (contract/names.ts). */
export const leaseName = shardLeaseName;

/** @throws Error naming the URL when it is neither form */
export async function openShardServices(options: ShardServicesOptions): Promise<ShardServices> {
  const location = parseCheckpointUrl(options.checkpointUrl);
  if (location.kind === 'file') return { store: new FileCheckpointStore(location.folder, options.shard.index), lease: undefined };
  const [{ KubeConfig }, { ConfigMapCheckpointStore }, { ShardLease }] = await Promise.all([
    import('@kubernetes/client-node'), import('./checkpoint-configmap.js'), import('./lease.js'),
  ]);
  let config = options.kubeConfig;
  if (config === undefined) {
    config = new KubeConfig();
    config.loadFromDefault();
  }
  const identity = options.identity ?? process.env[SHARD_ENV.podName] ?? `${hostname()}-${process.pid}`;
  const ownerUid = options.ownerUid ?? process.env[SHARD_ENV.ownerUid];
  return {
    store: new ConfigMapCheckpointStore(config, location.namespace, location.cloudTap, options.shard.index, ownerUid),
    lease: new ShardLease(config, {
      namespace: location.namespace, name: leaseName(location.cloudTap, options.shard.index), identity,
      ownerReferences: shardOwnerReferences(location.cloudTap, ownerUid),
      ...(options.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: options.leaseDurationSeconds } : {}),
    }, options.logger),
  };
}
