/**
 * The operator's per-CloudTap series: what the status says (shards desired and
 * ready, conditions), reconciles by result and the last success, and nothing
 * left behind for a deleted CloudTap.
 */
import { expect } from 'chai';
import { OperatorMetrics } from '../../../operator/controller/metrics.js';
import type { CloudTap } from '../../../operator/api/types.js';
import { awsCredentials, cloudTap, secret, startCluster, type Cluster } from './harness.js';

/** The value of one series in Prometheus text, or undefined. */
async function sample(metrics: OperatorMetrics, series: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operator/controller metrics', function () {
  this.timeout(30_000);

  it('counts reconciles per CloudTap from zero, remembers the last success, and forgets a deleted CloudTap', async () => {
    const metrics = new OperatorMetrics();
    const taps: CloudTap[] = [{ apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name: 'tap', namespace: 'ns' }, spec: {} as CloudTap['spec'] }];
    metrics.observe(() => taps);
    metrics.reconciled('ns/tap', 'success', 1_700_000_000_000);
    expect(await sample(metrics, 'cloudtap_operator_cloudtap_reconciles_total{namespace="ns",cloudtap="tap",result="error"}')).to.equal(0);
    metrics.reconciled('ns/tap', 'error', 1_700_000_100_000);
    metrics.reconciled('ns/tap', 'error', 1_700_000_200_000);
    expect(await sample(metrics, 'cloudtap_operator_cloudtap_reconciles_total{namespace="ns",cloudtap="tap",result="error"}')).to.equal(2);
    expect(await sample(metrics, 'cloudtap_operator_cloudtap_reconciles_total{namespace="ns",cloudtap="tap",result="success"}')).to.equal(1);
    // Errors do not move the last success.
    expect(await sample(metrics, 'cloudtap_operator_cloudtap_last_successful_reconcile_timestamp_seconds{namespace="ns",cloudtap="tap"}')).to.equal(1_700_000_000);
    metrics.reconciled('ns/gone', 'success');
    expect(await metrics.registry.metrics()).to.not.include('cloudtap="gone"');
    taps.pop();
    metrics.forget('ns', 'tap');
    expect(await metrics.registry.metrics()).to.not.include('cloudtap="tap"');
    expect(await sample(metrics, 'cloudtap_operator_reconciles_total{result="error"}')).to.equal(2);
  });

  describe('against the test API server', () => {
    let cluster: Cluster;
    beforeEach(async () => {
      cluster = await startCluster();
    });
    afterEach(async () => {
      await cluster.close();
    });

    it('shows shards desired and ready and the conditions of each CloudTap, as its status says', async () => {
      const operator = cluster.operator();
      const { resources } = cluster.server;
      resources.create(cluster.type('', 'v1', 'secrets'), 'default', secret('tap-creds', awsCredentials));
      resources.create(cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default', cloudTap('tap', { sizing: { shards: 2 } }));
      const tap = 'namespace="default",cloudtap="tap"';
      let ready: number | undefined;
      for (let i = 0; i < 200 && ready !== 2; i++) {
        ready = await sample(operator.metrics, `cloudtap_operator_cloudtap_shards_ready{${tap}}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(ready).to.equal(2);
      expect(await sample(operator.metrics, `cloudtap_operator_cloudtap_shards_desired{${tap}}`)).to.equal(2);
      expect(await sample(operator.metrics, `cloudtap_operator_cloudtap_condition{${tap},type="Ready",status="True"}`)).to.equal(1);
      expect(await sample(operator.metrics, `cloudtap_operator_cloudtap_condition{${tap},type="Degraded",status="True"}`)).to.equal(0);
      const last = await sample(operator.metrics, `cloudtap_operator_cloudtap_last_successful_reconcile_timestamp_seconds{${tap}}`);
      expect(last).to.be.within(Date.now() / 1000 - 30, Date.now() / 1000 + 1);
      resources.delete(cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default', 'tap', {});
      let text = '';
      for (let i = 0; i < 200; i++) {
        text = await operator.metrics.registry.metrics();
        if (!text.includes('cloudtap="tap"')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(text).to.not.include('cloudtap="tap"');
    });
  });
});
