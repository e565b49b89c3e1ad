/**
 * List once, then watch from the list's resourceVersion, keeping a cache. A
 * watch that ends (the apiserver's timeout, a dropped connection) is resumed
 * from the last resourceVersion seen, bookmarks included, without listing
 * again; only 410 Gone (that version is compacted away) costs a fresh list.
 * The periodic resync replays the cache to the handler and lists nothing, so
 * a quiet cluster sees no LIST from the operator (test/cluster/watch.test.ts).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './kube.js';
import { describeError, objectKey } from './kube.js';
import type { Logger } from './logger.js';

export type ChangeHandler<T> = (object: T, previous: T | undefined, deleted: boolean) => void;

export interface ReflectorOptions {
  readonly apiVersion: string;
  readonly kind: string;
  /** The URL path of the collection, for the watch: `/apis/apps/v1/deployments`. */
  readonly path: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Replay the cache to the handler this often (no LIST). @default 300000 (5 minutes) */
  readonly resyncMs?: number;
  /**
   * Ask the apiserver to end each watch after this long (resumed at once from the last
   * resourceVersion), as client-go does, so that a silently dead connection cannot last. @default 300
   */
  readonly watchTimeoutSeconds?: number;
  /** Wait this long before relisting after an error; doubles up to 30 s. @default 500 */
  readonly retryMs?: number;
  /** What to keep of each object in the cache (and hand on), to keep big ones small. @default the whole object */
  readonly keep?: (object: KubernetesObject) => KubernetesObject;
}

export class Reflector<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private abort: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private synced = false;
  private generation = 0;
  /** The newest resourceVersion seen (list, event or bookmark): where a resumed watch starts. */
  private resourceVersion: string | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly options: ReflectorOptions,
    private readonly onChange: ChangeHandler<T>,
    private readonly log: Logger,
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  start(): void {
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    clearTimeout(this.resyncTimer);
    clearTimeout(this.retryTimer);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const run = ++this.generation;
    this.abort?.abort();
    clearTimeout(this.resyncTimer);
    try {
      const { apiVersion, kind, namespace, labelSelector } = this.options;
      const result = await this.api.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      if (this.stopped || run !== this.generation) return;
      this.replace(result.items.map((item) => this.kept({ apiVersion, kind, ...item } as T)));
      this.synced = true;
      this.failures = 0;
      this.resourceVersion = result.metadata?.resourceVersion ?? '0';
      await this.watchFrom(this.resourceVersion, run);
      this.scheduleResync();
    } catch (error) {
      this.retry(`listing ${this.options.kind}: ${describeError(error)}`, run);
    }
  }

  /** Replays every cached object, as a relist would, without asking the apiserver. */
  private scheduleResync(): void {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => {
      if (this.stopped) return;
      for (const object of [...this.cache.values()]) this.onChange(object, object, false);
      this.scheduleResync();
    }, this.options.resyncMs ?? 300_000);
  }

  /** Watches again from the last resourceVersion seen; a failure to start falls back to a relist. */
  private async resume(run: number): Promise<void> {
    if (this.stopped || run !== this.generation) return;
    try {
      await this.watchFrom(this.resourceVersion ?? '0', run);
      this.failures = 0;
    } catch (error) {
      this.retry(`watching ${this.options.kind}: ${describeError(error)}`, run);
    }
  }

  /** Takes a fresh list as the truth: replays everything, reports what vanished. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const previous = this.cache.get(key);
      this.cache.set(key, item);
      this.onChange(item, previous, false);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.onChange(object, object, true);
    }
  }

  private async watchFrom(resourceVersion: string, run: number): Promise<void> {
    const { namespace, labelSelector, path } = this.options;
    const base = namespace ? path.replace(/\/([^/]+)$/, `/namespaces/${namespace}/$1`) : path;
    this.abort = await this.api.watch.watch(
      base,
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: this.options.watchTimeoutSeconds ?? 300, ...(labelSelector ? { labelSelector } : {}) },
      (type: string, object: T) => this.handleEvent(type, object, run),
      (error: unknown) => {
        if (run !== this.generation || this.stopped) return;
        // Ended or dropped: resume from where it was, after a short pause when it failed.
        const delay = error ? Math.min(30_000, (this.options.retryMs ?? 500) * 2 ** this.failures++) : 0;
        if (error) this.log.warn('watch resuming', { kind: this.options.kind, reason: describeError(error), delayMs: delay });
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => void this.resume(run), delay);
      },
    );
  }

  private handleEvent(type: string, object: T, run: number): void {
    if (run !== this.generation) return;
    if (type === 'ERROR') {
      // 410 Gone (or any watch error): the only cure is a fresh list.
      this.resourceVersion = undefined;
      this.retry(`watch of ${this.options.kind} answered ${(object as { code?: number }).code ?? 'an error'}`, run);
      return;
    }
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const typed = this.kept({ apiVersion: this.options.apiVersion, kind: this.options.kind, ...object } as T);
    const key = objectKey(typed);
    const previous = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.onChange(typed, previous, true);
    } else {
      this.cache.set(key, typed);
      this.onChange(typed, previous, false);
    }
  }

  private kept(object: T): T {
    return this.options.keep ? (this.options.keep(object) as T) : object;
  }

  private retry(reason: string | undefined, run: number): void {
    if (this.stopped || run !== this.generation) return;
    this.generation++;
    this.abort?.abort();
    clearTimeout(this.resyncTimer);
    clearTimeout(this.retryTimer);
    // A watch that simply ended (server timeout) is normal: relist soon.
    const delay = reason ? Math.min(30_000, (this.options.retryMs ?? 500) * 2 ** this.failures++) : 100;
    if (reason) this.log.warn('watch restarting', { kind: this.options.kind, reason, delayMs: delay });
    this.retryTimer = setTimeout(() => void this.relist(), delay);
  }
}
