/** Prometheus metrics of the calls to the object stores (source, keys, bucket outputs), read at scrape time. */
import { Counter, type Registry } from 'prom-client';
import type { StoreCallCounts, StoreOperation } from '../store/counting-store.js';
import type { FaultKind } from '../store/faults.js';

const OPERATIONS: readonly StoreOperation[] = ['list', 'read', 'write'];
const FAULT_KINDS: readonly FaultKind[] = ['transient', 'access', 'missing', 'changed', 'fatal'];

/** @param stores the counts of each store by its role (`source`, `keys`, `output`) */
export function registerStoreMetrics(registry: Registry, stores: ReadonlyMap<string, StoreCallCounts>): void {
  new Counter({
    name: 'cloudtap_store_requests_total',
    help: 'Object store calls (after retries) by store, operation (list, read, write) and status (ok, the HTTP status, or network)',
    labelNames: ['store', 'operation', 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const [store, counts] of stores) {
        for (const { call, count } of counts.calls.values()) this.inc({ store, operation: call.operation, status: call.status }, count);
      }
    },
  });
  new Counter({
    name: 'cloudtap_store_errors_total',
    help: 'Object store calls that failed after retries, by store, operation and kind (transient, access, missing, changed, fatal)',
    labelNames: ['store', 'operation', 'kind'], registers: [registry],
    collect() {
      this.reset();
      for (const [store, counts] of stores) {
        // Every series from zero (a bounded set), so an error rate reads 0 rather than nothing while all is well.
        for (const operation of OPERATIONS) for (const kind of FAULT_KINDS) this.inc({ store, operation, kind }, 0);
        for (const { call, count } of counts.calls.values()) {
          if (call.kind !== undefined) this.inc({ store, operation: call.operation, kind: call.kind }, count);
        }
      }
    },
  });
  new Counter({
    name: 'cloudtap_store_retries_total',
    help: 'Object store attempts that failed and were tried again (throttling, 5xx, timeouts, resets)',
    labelNames: ['store'], registers: [registry],
    collect() {
      this.reset();
      for (const [store, counts] of stores) this.inc({ store }, counts.retries);
    },
  });
}
