/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: take
 * the Lease when it is free or expired, renew it well before it expires, and
 * give it up on shutdown so a successor does not wait for the expiry.
 * Optimistic concurrency (the Lease's resourceVersion) decides races.
 */
import type { V1Lease } from '@kubernetes/client-node';
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

/**
 * A Lease's times are MicroTime, which the API server parses with exactly six
 * fractional digits; the client passes a Date through as toISOString() (three
 * digits), which the server refuses. So the time goes as a padded string.
 */
export function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
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
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.api.objects.replace({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } });
      }
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
    const nowDate = new Date();
    const now = microTime(nowDate);
    const lease = await this.read();
    const spec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.durationSeconds,
      renewTime: now,
    };
    if (!lease) {
      await this.api.objects.create<V1Lease>(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.leaseName, namespace: this.options.namespace },
          spec: { ...spec, acquireTime: now, leaseTransitions: 0 },
        },
        undefined,
        undefined,
        fieldManager,
      );
      return true;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const expired = renewed + (lease.spec?.leaseDurationSeconds ?? this.durationSeconds) * 1000 < nowDate.getTime();
    if (holder !== this.options.identity && holder !== '' && !expired) return false;
    const takingOver = holder !== this.options.identity;
    try {
      await this.api.objects.replace<V1Lease>({
        ...lease,
        spec: {
          ...lease.spec,
          ...spec,
          ...(takingOver ? { acquireTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 } : {}),
        },
      });
      return true;
    } catch (error) {
      if (apiErrorCode(error) === 409) return false; // another candidate won this round
      throw error;
    }
  }
}
