/**
 * Shard checkpoints in ConfigMaps, one per shard: `<cloudtap>-shard-<i>-checkpoint`
 * in the CloudTap's namespace, the JSON under the key `checkpoint.json` (the
 * names the operator's Role grants), the shard's status report for the
 * operator under `status.json`, labelled as the operator watches them. Writes go with the resourceVersion last
 * seen, so a pod that lost its shard cannot overwrite its successor's
 * checkpoint unnoticed: a conflict is an error, not a silent retry.
 */
import { ApiException, CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { decodeCheckpoint } from '../checkpoint/checkpoint.js';
import { CHECKPOINT_KEY, checkpointConfigMapName, checkpointLabels, shardOwnerReferences, STATUS_REPORT_KEY } from '../../contract/names.js';
import { MAX_CHECKPOINT_SHARDS } from '../../contract/limits.js';
import type { CheckpointStore, ShardCheckpoint } from '../checkpoint/checkpoint-store.js';
import { describe } from './lease.js';

export { CHECKPOINT_KEY, checkpointConfigMapName };

export class ConfigMapCheckpointStore implements CheckpointStore {
  readonly description: string;
  readonly carriesReports = true;
  private readonly api: CoreV1Api;
  private readonly name: string;
  /** resourceVersion of our ConfigMap as last read or written; undefined before it exists. */
  private resourceVersion: string | undefined;
  private known = false;

  /** @param ownerUid the CloudTap's uid: the ConfigMap then goes with it (garbage collection) */
  constructor(config: KubeConfig, private readonly namespace: string, private readonly cloudTap: string, private readonly shardIndex: number, private readonly ownerUid?: string) {
    this.api = config.makeApiClient(CoreV1Api);
    this.name = checkpointConfigMapName(cloudTap, shardIndex);
    this.description = `configmap://${namespace}/${this.name}`;
  }

  /**
   * Shards 0, 1, 2, ... until the first one past our own that has no ConfigMap (or
   * may not be read: the Role names only the current shards).
   */
  async readAll(): Promise<ShardCheckpoint[]> {
    const found: ShardCheckpoint[] = [];
    for (let index = 0; index < MAX_CHECKPOINT_SHARDS; index++) {
      const name = checkpointConfigMapName(this.cloudTap, index);
      const configMap = await this.read(name);
      if (name === this.name) {
        this.resourceVersion = configMap?.metadata?.resourceVersion;
        this.known = true;
      }
      if (configMap === undefined) {
        if (index > this.shardIndex) break;
        continue;
      }
      const text = configMap.data?.[CHECKPOINT_KEY];
      if (text !== undefined) found.push({ index, checkpoint: decodeCheckpoint(text, `configmap://${this.namespace}/${name}`) });
    }
    return found;
  }

  async write(text: string, report?: string): Promise<void> {
    try {
      if (!this.known) {
        this.resourceVersion = (await this.read(this.name))?.metadata?.resourceVersion;
        this.known = true;
      }
      const body: V1ConfigMap = {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: {
          name: this.name, namespace: this.namespace,
          labels: checkpointLabels(this.cloudTap),
          ...(this.ownerUid ? { ownerReferences: shardOwnerReferences(this.cloudTap, this.ownerUid) } : {}),
          ...(this.resourceVersion !== undefined ? { resourceVersion: this.resourceVersion } : {}),
        },
        data: { [CHECKPOINT_KEY]: text, ...(report !== undefined ? { [STATUS_REPORT_KEY]: report } : {}) },
      };
      const written = this.resourceVersion === undefined
        ? await this.api.createNamespacedConfigMap({ namespace: this.namespace, body })
        : await this.api.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body });
      this.resourceVersion = written.metadata?.resourceVersion;
    } catch (error) {
      // Read again next time: a conflict means someone else wrote it.
      this.known = false;
      throw new Error(`while writing checkpoint ${this.description}: ${describe(error)}`);
    }
  }

  private async read(name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.api.readNamespacedConfigMap({ name, namespace: this.namespace });
    } catch (error) {
      if (error instanceof ApiException && (error.code === 404 || error.code === 403)) return undefined;
      throw new Error(`while reading checkpoint configmap://${this.namespace}/${name}: ${describe(error)}`);
    }
  }
}
