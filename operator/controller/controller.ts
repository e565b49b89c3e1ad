/**
 * The operator: watches CloudTaps, their children and the Secrets they
 * reference, queues the CloudTaps affected, reconciles them one key at a
 * time, and does all that only while it holds the leader Lease.
 */
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { ReflectorSet } from './reflector-set.js';
import { apiVersion, kind, plural, group, version, type CloudTap } from '../api/types.js';
import { managedBy } from '../specs/names.js';
import { EventRecorder } from './events.js';
import { apiErrorCode, describeError, kubeApi, type KubeApi } from './kube.js';
import { LeaderElector, type LeaderElectionOptions } from './leader.js';
import { silentLogger, type Logger } from './logger.js';
import { OperatorMetrics } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './queue.js';
import { reconcile, type ClusterState } from './reconcile.js';
import { Reflector } from './reflector.js';
import type { ImagePolicy } from '../specs/image.js';
import { checkpointSelector, reportOnly } from './shard-reports.js';

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  /** Watch only this namespace (same as namespaces: [namespace]). */
  readonly namespace?: string;
  /** Watch only these namespaces; RBAC then needs a Role in each. @default all namespaces */
  readonly namespaces?: readonly string[];
  /** Read each referenced Secret again this often (Secrets are read by name, never watched). @default resyncMs */
  readonly secretRecheckMs?: number;
  /** Campaign for a Lease before working; false runs at once (one replica only). @default false */
  readonly leaderElection?: LeaderElectionOptions | false;
  /** Replay every cache to the handlers this often (no LIST). @default 300000 */
  readonly resyncMs?: number;
  /** Each watch is ended by the apiserver after this long and resumed from its resourceVersion. @default 300 */
  readonly watchTimeoutSeconds?: number;
  /** Reconciles running at once (never two for the same CloudTap). @default 2 */
  readonly workers?: number;
  readonly queue?: WorkQueueOptions;
  /** How often the stitchers report throughput and lag; six of these (or poll intervals) make a report stale. @default 10000 */
  readonly reportIntervalMs?: number;
  readonly log?: Logger;
  readonly metrics?: OperatorMetrics;
  /** The stitcher image and whether a CloudTap may name another. @default builtInImagePolicy (no overrides) */
  readonly images?: ImagePolicy;
}

const childKinds = [
  { apiVersion: 'v1', kind: 'ServiceAccount', path: '/api/v1/serviceaccounts' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', path: '/apis/rbac.authorization.k8s.io/v1/roles' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', path: '/apis/rbac.authorization.k8s.io/v1/rolebindings' },
  { apiVersion: 'v1', kind: 'ConfigMap', path: '/api/v1/configmaps' },
  { apiVersion: 'v1', kind: 'Service', path: '/api/v1/services' },
  { apiVersion: 'apps/v1', kind: 'Deployment', path: '/apis/apps/v1/deployments' },
] as const;

export class Operator {
  readonly api: KubeApi;
  readonly metrics: OperatorMetrics;
  private readonly log: Logger;
  private readonly events: EventRecorder;
  private queue: WorkQueue | undefined;
  private cloudTaps: ReflectorSet<CloudTap & KubernetesObject> | undefined;
  /** The stitchers' checkpoint ConfigMaps, for their throughput and lag reports. */
  private checkpoints: ReflectorSet<V1ConfigMap> | undefined;
  private children = new Map<string, ReflectorSet<KubernetesObject>>();
  private elector: LeaderElector | undefined;
  private running = false;

  constructor(private readonly options: OperatorOptions) {
    this.api = kubeApi(options.kubeConfig);
    this.log = options.log ?? silentLogger;
    this.metrics = options.metrics ?? new OperatorMetrics();
    this.events = new EventRecorder(this.api, this.log);
    this.metrics.observe(() => this.cloudTaps?.list() ?? []);
  }

  /** Whether this process is doing the work (the leader, or no election). */
  get isActive(): boolean {
    return this.running;
  }

  /** Whether every watch has listed once (or this process is a standby). */
  get isReady(): boolean {
    if (!this.running) return true;
    return this.reflectors().every((reflector) => reflector?.hasSynced);
  }

  start(): void {
    const election = this.options.leaderElection;
    if (!election) return this.startWorking();
    this.elector = new LeaderElector(
      this.api,
      election,
      {
        onStartedLeading: () => {
          this.metrics.leader.set(1);
          this.startWorking();
        },
        onStoppedLeading: () => {
          this.metrics.leader.set(0);
          this.stopWorking();
        },
      },
      this.log,
    );
    this.elector.start();
  }

  async stop(): Promise<void> {
    await this.elector?.stop();
    this.stopWorking();
  }

  private startWorking(): void {
    if (this.running) return;
    this.running = true;
    const queue = (this.queue = new WorkQueue(this.options.queue));
    const common = { resyncMs: this.options.resyncMs, watchTimeoutSeconds: this.options.watchTimeoutSeconds };
    const namespaces = this.options.namespaces ?? (this.options.namespace ? [this.options.namespace] : undefined);
    this.cloudTaps = new ReflectorSet(
      this.api,
      { ...common, apiVersion, kind, path: `/apis/${group}/${version}/${plural}` },
      namespaces,
      (object, previous, deleted) => this.onCloudTap(object, previous, deleted),
      this.log,
    );
    // No Secret reflector: a Secret is read by name when a CloudTap names it (see readSecret).
    this.checkpoints = new ReflectorSet<V1ConfigMap>(
      this.api,
      { ...common, apiVersion: 'v1', kind: 'ConfigMap', path: '/api/v1/configmaps', labelSelector: checkpointSelector, keep: reportOnly },
      namespaces,
      (configMap) => this.onCheckpoint(configMap),
      this.log,
    );
    for (const child of childKinds) {
      this.children.set(
        child.kind,
        new ReflectorSet(this.api, { ...common, ...child, labelSelector: `app.kubernetes.io/managed-by=${managedBy}` }, namespaces, (object) => this.onChild(object), this.log),
      );
    }
    for (const reflector of this.reflectors()) reflector?.start();
    void queue.run((key) => this.work(key), this.options.workers ?? 2);
  }

  private stopWorking(): void {
    if (!this.running) return;
    this.running = false;
    this.queue?.stop();
    for (const reflector of this.reflectors()) reflector?.stop();
    this.children = new Map();
  }

  /** Spec, label, annotation and deletion changes matter; our own status writes do not. */
  private onCloudTap(object: CloudTap, previous: CloudTap | undefined, deleted: boolean): void {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    if (deleted) {
      this.events.forget(object.metadata.uid);
      this.metrics.forget(object.metadata.namespace, object.metadata.name);
      return;
    }
    const resync = previous?.metadata.resourceVersion === object.metadata.resourceVersion;
    const changed =
      !previous ||
      previous.metadata.generation !== object.metadata.generation ||
      previous.metadata.deletionTimestamp !== object.metadata.deletionTimestamp ||
      JSON.stringify(previous.metadata.labels) !== JSON.stringify(object.metadata.labels) ||
      JSON.stringify(previous.metadata.annotations) !== JSON.stringify(object.metadata.annotations);
    if (resync || changed) this.enqueue(key);
  }

  private onChild(object: KubernetesObject): void {
    const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === kind && ref.apiVersion === apiVersion);
    if (owner) this.enqueue(`${object.metadata?.namespace}/${owner.name}`);
  }

  /** A shard wrote its checkpoint, and with it its throughput and lag. */
  private onCheckpoint(configMap: V1ConfigMap): void {
    const instance = configMap.metadata?.labels?.['app.kubernetes.io/instance'];
    if (instance) this.enqueue(`${configMap.metadata?.namespace}/${instance}`);
  }

  private reflectors(): (Pick<Reflector<KubernetesObject>, 'start' | 'stop' | 'hasSynced'> | undefined)[] {
    return [this.cloudTaps, this.checkpoints, ...this.children.values()];
  }

  /**
   * GET of one Secret a CloudTap names, in the CloudTap's namespace: the operator never lists or
   * watches Secrets and keeps none in memory beyond the reconcile that reads it.
   */
  private async readSecret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      const secret = await this.api.objects.read<V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
      return secret.data ?? {};
    } catch (error) {
      if (apiErrorCode(error) === 404) return undefined;
      throw new Error(`reading Secret ${namespace}/${name}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Whether the CloudTap names a Secret: then it is read again every secretRecheckMs, for rotations. */
  private namesSecret(key: string): boolean {
    const [namespace, name] = key.split('/') as [string, string];
    const spec = this.cloudTaps?.get(namespace, name)?.spec;
    return Boolean(spec?.source?.credentialsSecretRef || spec?.keys?.credentialsSecretRef);
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
    this.metrics.queueDepth.set(this.queue?.length ?? 0);
  }

  private async work(key: string): Promise<void> {
    const queue = this.queue!;
    // Wait until every cache has listed once, or "missing" would mean "not yet seen".
    if (!this.isReady) {
      queue.addAfter(key, 100);
      return;
    }
    const timer = this.metrics.duration.startTimer();
    try {
      const result = await reconcile(this.api, this.state(), this.events, key, { reportIntervalMs: this.options.reportIntervalMs }, this.options.images);
      queue.forget(key);
      this.metrics.reconciled(key, 'success');
      this.metrics.writes.inc(result.writes);
      const recheck = this.namesSecret(key) ? (this.options.secretRecheckMs ?? this.options.resyncMs ?? 300_000) : undefined;
      const after = [result.requeueAfterMs, recheck].filter((ms): ms is number => ms !== undefined);
      if (after.length > 0) queue.addAfter(key, Math.min(...after));
    } catch (error) {
      const delay = queue.retry(key);
      this.metrics.reconciled(key, 'error');
      // A conflict means the cache was behind our own last write: routine, the retry reads anew.
      const conflict = apiErrorCode(error) === 409 || apiErrorCode((error as Error).cause) === 409;
      this.log[conflict ? 'debug' : 'warn']('reconcile failed, will retry', { cloudTap: key, retryInMs: delay, error: describeError(error) });
    } finally {
      timer();
      this.metrics.queueDepth.set(queue.length);
    }
  }

  private state(): ClusterState {
    return {
      cloudTap: (namespace, name) => this.cloudTaps?.get(namespace, name),
      secret: (namespace, name) => this.readSecret(namespace, name),
      child: (childKind, namespace, name) => this.children.get(childKind)?.get(namespace, name),
      deployments: (namespace, instance) =>
        (this.children.get('Deployment')?.list() ?? []).filter(
          (deployment) => deployment.metadata?.namespace === namespace && deployment.metadata?.labels?.['app.kubernetes.io/instance'] === instance,
        ) as V1Deployment[],
      checkpoint: (namespace, name) => this.checkpoints?.get(namespace, name),
    };
  }
}
