/** Prometheus metrics of TLS decryption (the clear-text variant), read from the decryptor's counters at scrape time. */
import { Counter, type Registry } from 'prom-client';
import type { TlsStats } from '../tls/stats.js';

export function registerTlsMetrics(registry: Registry, stats: () => TlsStats): void {
  const total = (name: string, help: string, read: (s: TlsStats) => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(stats())); } });
  };
  const labelled = (name: string, help: string, label: string, read: (s: TlsStats) => Record<string, number>): void => {
    new Counter({
      name, help, labelNames: [label], registers: [registry],
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(read(stats()))) this.inc({ [label]: value }, count);
      },
    });
  };
  total('cloudtap_tls_flows_decrypted_total', 'TLS flows decrypted for the clear-text variant', (s) => s.decryptedFlows);
  total('cloudtap_tls_flows_damaged_total', 'Decrypted TLS flows that lost part of a direction', (s) => s.damagedFlows);
  total('cloudtap_tls_auth_failures_total', 'TLS records that failed authentication', (s) => s.authFailures);
  total('cloudtap_tls_records_total', 'TLS records decrypted', (s) => s.records);
  total('cloudtap_tls_plaintext_bytes_total', 'Application bytes decrypted', (s) => s.plaintextBytes);
  labelled('cloudtap_tls_flows_undecryptable_total', 'TLS flows exported encrypted only, by reason', 'reason', (s) => s.undecryptable);
  labelled('cloudtap_tls_flows_by_version_total', 'Decrypted TLS flows by protocol version', 'version', (s) => s.byVersion);
  labelled('cloudtap_tls_flows_by_suite_total', 'Decrypted TLS flows by cipher suite', 'suite', (s) => s.bySuite);
}
