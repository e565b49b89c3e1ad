/**
 * The Lease a shard holds while it exports (coordination.k8s.io/v1, one per
 * shard, `<cloudtap>-shard-<i>`). Another pod may take a Lease once
 * `leaseDurationSeconds` have passed since its last renewal; so a holder
 * whose renewals fail stops exporting well before that: `mayExport()` turns
 * false at `renewDeadline` after the start of the last successful renewal,
 * measured on this process's own monotonic clock, and `onLost` fires.
 * Optimistic concurrency (resourceVersion) decides races between claimants.
 */
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, type V1OwnerReference } from '@kubernetes/client-node';
import type { Logger } from '../observe/log.js';
import { claimedSpec, mayClaim, releaseIfHeld, takesOver } from '../../kube-common/lease.js';

export interface ShardLeaseOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique among claimants: the pod name. */
  readonly identity: string;
  /** Put on the Lease, so that it goes with its CloudTap (contract/names.ts shardOwnerReferences). */
  readonly ownerReferences?: readonly V1OwnerReference[];
  /** @default 15 */
  readonly leaseDurationSeconds?: number;
  /** Exporting stops when no renewal succeeded for this long (less than the duration). @default two thirds of the duration */
  readonly renewDeadlineMs?: number;
  /** How often to renew, or to try again while another pod holds it. @default a fifth of the duration */
  readonly retryPeriodMs?: number;
}

export class ShardLease {
  private readonly api: CoordinationV1Api;
  private readonly durationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  /** performance.now() at the start of the last renewal that succeeded. */
  private renewedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private stopped = false;
  private lostHandlers: (() => void)[] = [];
  transitions = 0;

  constructor(config: KubeConfig, private readonly options: ShardLeaseOptions, private readonly log: Logger) {
    this.api = config.makeApiClient(CoordinationV1Api);
    this.durationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = options.renewDeadlineMs ?? (this.durationSeconds * 2000) / 3;
    this.retryPeriodMs = options.retryPeriodMs ?? (this.durationSeconds * 1000) / 5;
    if (this.renewDeadlineMs >= this.durationSeconds * 1000) {
      throw new RangeError(`Lease ${options.namespace}/${options.name}: the renew deadline (${this.renewDeadlineMs} ms) must be shorter than the lease duration (${this.durationSeconds} s)`);
    }
  }

  get description(): string {
    return `Lease ${this.options.namespace}/${this.options.name}`;
  }

  /** True while this process holds the Lease and its last renewal is recent enough. */
  mayExport(): boolean {
    return this.held && performance.now() - this.renewedAt < this.renewDeadlineMs;
  }

  /** Called once when the Lease is lost (not renewed in time, or taken). */
  onLost(handler: () => void): void {
    this.lostHandlers.push(handler);
  }

  /** Waits until this process holds the Lease (or `signal` aborts: then false), then keeps renewing it. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    let waitingLogged = false;
    while (signal?.aborted !== true) {
      if (await this.tryOnce().catch((error: unknown) => this.failedAttempt(error))) {
        this.held = true;
        this.log.info('holding the shard Lease', { lease: this.options.name, identity: this.options.identity });
        this.schedule();
        return true;
      }
      if (!waitingLogged) this.log.info('waiting for the shard Lease (another pod holds it)', { lease: this.options.name });
      waitingLogged = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.retryPeriodMs);
        signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
    return false;
  }

  /** Stops renewing and, when still held, gives the Lease up so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.held) return;
    this.held = false;
    try {
      const { name, namespace } = this.options;
      await releaseIfHeld(await this.read(), this.options.identity, (body) => this.api.replaceNamespacedLease({ name, namespace, body }));
    } catch (error) {
      this.log.warn('could not release the shard Lease', { lease: this.options.name, error: describe(error) });
    }
  }

  private failedAttempt(error: unknown): false {
    this.log.warn('claiming the shard Lease failed', { lease: this.options.name, error: describe(error) });
    return false;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew(), this.retryPeriodMs);
    // A missed renewal must still end exporting on time, even while the loop is busy.
    const lostCheck = setTimeout(() => this.checkDeadline(), this.renewDeadlineMs);
    lostCheck.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped || !this.held) return;
    let stillHeld = false;
    try {
      stillHeld = await this.tryOnce();
    } catch (error) {
      this.log.warn('renewing the shard Lease failed', { lease: this.options.name, error: describe(error) });
      stillHeld = this.mayExport();
    }
    if (!stillHeld) return this.lose('another pod holds it now');
    this.checkDeadline();
    this.schedule();
  }

  private checkDeadline(): void {
    if (this.held && !this.mayExport()) this.lose('not renewed in time');
  }

  private lose(why: string): void {
    if (!this.held) return;
    this.held = false;
    this.stopped = true;
    clearTimeout(this.timer);
    this.log.error('lost the shard Lease: exporting stops', { lease: this.options.name, why });
    for (const handler of this.lostHandlers) handler();
    this.lostHandlers = [];
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  private owners(): { ownerReferences?: V1OwnerReference[] } {
    return this.options.ownerReferences?.length ? { ownerReferences: [...this.options.ownerReferences] } : {};
  }

  /** One attempt to take or renew; true when this process holds it afterwards. */
  private async tryOnce(): Promise<boolean> {
    const started = performance.now();
    const now = new Date();
    const lease = await this.read();
    const spec = claimedSpec(lease === undefined ? undefined : (lease.spec ?? {}), this.options.identity, this.durationSeconds, now);
    try {
      if (lease === undefined) {
        await this.api.createNamespacedLease({
          namespace: this.options.namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
            metadata: { name: this.options.name, namespace: this.options.namespace, ...this.owners() },
            spec,
          },
        });
      } else {
        if (!mayClaim(lease.spec, this.options.identity, this.durationSeconds, now)) return false;
        if (takesOver(lease.spec, this.options.identity)) this.transitions++;
        await this.api.replaceNamespacedLease({
          name: this.options.name, namespace: this.options.namespace,
          body: {
            ...lease,
            metadata: { ...lease.metadata, ...(lease.metadata?.ownerReferences?.length ? {} : this.owners()) },
            spec,
          },
        });
      }
    } catch (error) {
      if (error instanceof ApiException && (error.code === 409 || error.code === 422)) return false; // another claimant won this round
      throw error;
    }
    this.renewedAt = started;
    return true;
  }
}

/** A failed call in one line, without the response body (it may echo what was sent). */
export function describe(error: unknown): string {
  if (error instanceof ApiException) return `HTTP ${error.code}`;
  return (error as Error)?.message ?? String(error);
}
