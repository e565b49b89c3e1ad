/**
 * The operator's own Prometheus metrics, on a registry of its own: how the
 * work queue and reconciles go overall, and one series per CloudTap (shards
 * desired and ready, conditions, reconcile errors, the last successful
 * reconcile). Per-CloudTap labels are `namespace` and `cloudtap` only: as
 * many series as there are CloudTaps, and gone when the CloudTap is.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CloudTap } from '../api/types.js';

const perCloudTap = ['namespace', 'cloudtap'] as const;

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'cloudtap_operator_reconciles_total', help: 'Reconciles by result.', labelNames: ['result'], registers: [this.registry] });
  readonly writes = new Counter({ name: 'cloudtap_operator_writes_total', help: 'Objects the reconciles wrote (children, status, deletions).', registers: [this.registry] });
  readonly duration = new Histogram({ name: 'cloudtap_operator_reconcile_seconds', help: 'Time per reconcile.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'cloudtap_operator_queue_depth', help: 'CloudTaps waiting to be reconciled.', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'cloudtap_operator_leader', help: '1 while this process holds the leader Lease.', registers: [this.registry] });

  private readonly cloudTapReconciles = new Counter({
    name: 'cloudtap_operator_cloudtap_reconciles_total', help: 'Reconciles of one CloudTap by result (success, error).',
    labelNames: [...perCloudTap, 'result'], registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'cloudtap_operator_cloudtap_last_successful_reconcile_timestamp_seconds',
    help: 'When a reconcile of the CloudTap last succeeded (Unix time).', labelNames: perCloudTap, registers: [this.registry],
  });
  private cloudTaps: () => readonly CloudTap[] = () => [];

  constructor() {
    const cloudTaps = (): readonly CloudTap[] => this.cloudTaps();
    const fromStatus = (name: string, help: string, read: (cloudTap: CloudTap) => number | undefined): void => {
      new Gauge({
        name, help, labelNames: perCloudTap, registers: [this.registry],
        collect() {
          // Read from the watch cache at scrape time: what the status says now, and nothing for a deleted CloudTap.
          this.reset();
          for (const cloudTap of cloudTaps()) {
            const value = read(cloudTap);
            if (value !== undefined) this.set(labelsOf(cloudTap), value);
          }
        },
      });
    };
    fromStatus('cloudtap_operator_cloudtap_shards_desired', 'Stitcher shards the CloudTap asks for (status.shards).', (c) => c.status?.shards);
    fromStatus('cloudtap_operator_cloudtap_shards_ready', 'Stitcher shards ready with the current inputs (status.readyShards).', (c) => c.status?.readyShards);
    fromStatus('cloudtap_operator_cloudtap_lag_seconds', 'The largest lag the shards reported (status.lagSeconds).', (c) => c.status?.lagSeconds);
    new Gauge({
      name: 'cloudtap_operator_cloudtap_condition',
      help: 'The CloudTap\'s status conditions: 1 for the status each condition has (type Ready, Reconciled, CredentialsValid, Degraded).',
      labelNames: [...perCloudTap, 'type', 'status'], registers: [this.registry],
      collect() {
        this.reset();
        for (const cloudTap of cloudTaps()) {
          for (const condition of cloudTap.status?.conditions ?? []) {
            for (const status of ['True', 'False', 'Unknown']) {
              this.set({ ...labelsOf(cloudTap), type: condition.type, status }, condition.status === status ? 1 : 0);
            }
          }
        }
      },
    });
  }

  /** Where the per-CloudTap gauges read the CloudTaps from (the watch cache). */
  observe(cloudTaps: () => readonly CloudTap[]): void {
    this.cloudTaps = cloudTaps;
  }

  /** A reconcile of `key` (`namespace/name`) ended. */
  reconciled(key: string, result: 'success' | 'error', at = Date.now()): void {
    const [namespace = '', cloudtap = ''] = key.split('/');
    this.reconciles.inc({ result });
    // A key may be worked on once more after its CloudTap was deleted: no series for it then.
    if (!this.cloudTaps().some((c) => c.metadata.namespace === namespace && c.metadata.name === cloudtap)) return;
    this.cloudTapReconciles.inc({ namespace, cloudtap, result });
    // Both results from zero, so an error rate reads 0 rather than nothing.
    this.cloudTapReconciles.inc({ namespace, cloudtap, result: result === 'success' ? 'error' : 'success' }, 0);
    if (result === 'success') this.lastSuccess.set({ namespace, cloudtap }, at / 1000);
  }

  /** The CloudTap is gone: its series go too. */
  forget(namespace: string, cloudtap: string): void {
    for (const result of ['success', 'error']) this.cloudTapReconciles.remove({ namespace, cloudtap, result });
    this.lastSuccess.remove({ namespace, cloudtap });
  }
}

function labelsOf(cloudTap: CloudTap): { namespace: string; cloudtap: string } {
  return { namespace: cloudTap.metadata.namespace, cloudtap: cloudTap.metadata.name };
}
