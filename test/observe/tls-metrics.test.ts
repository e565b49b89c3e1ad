import { expect } from 'chai';
import { Registry } from 'prom-client';
import { registerTlsMetrics } from '../../stitcher/observe/tls-metrics.js';
import { emptyTlsStats } from '../../stitcher/tls/stats.js';

describe('pipeline/tls-metrics', () => {
  it('shows the decryptor counters, undecryptable flows by reason, flows by version and suite', async () => {
    const stats = emptyTlsStats();
    const registry = new Registry();
    registerTlsMetrics(registry, () => stats);
    stats.decryptedFlows = 7;
    stats.undecryptable['no-keys'] = 2;
    stats.byVersion['TLS 1.3'] = 5;
    stats.bySuite.TLS_AES_128_GCM_SHA256 = 5;
    const text = await registry.metrics();
    expect(text).to.match(/^cloudtap_tls_flows_decrypted_total 7$/m);
    expect(text).to.match(/^cloudtap_tls_flows_undecryptable_total\{reason="no-keys"\} 2$/m);
    expect(text).to.match(/^cloudtap_tls_flows_undecryptable_total\{reason="auth-failure"\} 0$/m);
    expect(text).to.match(/^cloudtap_tls_flows_by_version_total\{version="TLS 1.3"\} 5$/m);
    expect(text).to.match(/^cloudtap_tls_flows_by_suite_total\{suite="TLS_AES_128_GCM_SHA256"\} 5$/m);
    stats.decryptedFlows = 9;
    expect(await registry.metrics()).to.match(/^cloudtap_tls_flows_decrypted_total 9$/m);
  });
});
