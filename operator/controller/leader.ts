/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: take
 * the Lease when it is free or expired, renew it well before it expires, and
 * give it up on shutdown so a successor does not wait for the expiry.
 * Optimistic concurrency (the Lease's resourceVersion) decides races.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { claimedSpec, mayClaim, releaseIfHeld } from '../../kube-common/lease.js';
import { apiErrorCode, describeError, fieldManager, type KubeApi } from './kube.js';
import type { Logger } from './logger.js';

export interface LeaderElectionOptions {
  readonly namespace: string;
  /** @default "cloudtap-operator" */
  readonly name?: string;
  /** This process's identity, unique among the candidates (the pod name). */
  readonly identity: string;
  /** @default 15 */
  readonly leaseDurationSeconds?: number;
  /** How often to try or renew. @default a third of the lease duration */
  readonly retryPeriodMs?: number;
}

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = false;

  constructor(
    private readonly api: KubeApi,
    private readonly options: LeaderElectionOptions,
    private readonly callbacks: { onStartedLeading(): void; onStoppedLeading(): void },
    private readonly log: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      await releaseIfHeld(await this.read(), this.options.identity, (released) => this.api.objects.replace(released));
    } catch (error) {
      this.log.warn('could not release the leader Lease', { error: describeError(error) });
    }
    this.callbacks.onStoppedLeading();
  }

  private get durationSeconds(): number {
    return this.options.leaseDurationSeconds ?? 15;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let held = false;
    try {
      held = await this.tryAcquireOrRenew();
    } catch (error) {
      this.log.warn('leader election attempt failed', { error: describeError(error) });
    }
    if (this.stopped) return;
    if (held && !this.leading) {
      this.leading = true;
      this.log.info('became the leader', { identity: this.options.identity });
      this.callbacks.onStartedLeading();
    } else if (!held && this.leading) {
      this.leading = false;
      this.log.warn('lost the leader Lease', { identity: this.options.identity });
      this.callbacks.onStoppedLeading();
    }
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? (this.durationSeconds * 1000) / 3);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.objects.read<V1Lease>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.leaseName, namespace: this.options.namespace },
      });
    } catch (error) {
      if (apiErrorCode(error) === 404) return undefined;
      throw error;
    }
  }

  private get leaseName(): string {
    return this.options.name ?? 'cloudtap-operator';
  }

  /** @returns whether this process holds the Lease now */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const lease = await this.read();
    const spec = claimedSpec(lease === undefined ? undefined : (lease.spec ?? {}), this.options.identity, this.durationSeconds, now);
    if (!lease) {
      await this.api.objects.create<V1Lease>(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.leaseName, namespace: this.options.namespace },
          spec,
        },
        undefined,
        undefined,
        fieldManager,
      );
      return true;
    }
    if (!mayClaim(lease.spec, this.options.identity, this.durationSeconds, now)) return false;
    try {
      await this.api.objects.replace<V1Lease>({ ...lease, spec });
      return true;
    } catch (error) {
      if (apiErrorCode(error) === 409) return false; // another candidate won this round
      throw error;
    }
  }
}
