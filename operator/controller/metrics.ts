/** The operator's own Prometheus metrics, on a registry of its own. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'cloudtap_operator_reconciles_total', help: 'Reconciles by result.', labelNames: ['result'], registers: [this.registry] });
  readonly writes = new Counter({ name: 'cloudtap_operator_writes_total', help: 'Objects the reconciles wrote (children, status, deletions).', registers: [this.registry] });
  readonly duration = new Histogram({ name: 'cloudtap_operator_reconcile_seconds', help: 'Time per reconcile.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'cloudtap_operator_queue_depth', help: 'CloudTaps waiting to be reconciled.', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'cloudtap_operator_leader', help: '1 while this process holds the leader Lease.', registers: [this.registry] });
}
