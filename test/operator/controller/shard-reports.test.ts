import { expect } from 'chai';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { CloudTap, CloudTapStatus, StitcherOptions } from '../../../operator/api/types.js';
import { pollIntervalMs, reportedLoad, reportOnly, roundSignificant, settled, statusReportKey } from '../../../operator/controller/shard-reports.js';
import { encodeShardStatus, shardStatus, STATUS_REPORT_KEY } from '../../../stitcher/shard/status-report.js';

const now = Date.parse('2026-11-25T12:00:00.000Z');

function tap(status?: CloudTapStatus, stitcher?: StitcherOptions): CloudTap {
  return {
    apiVersion: 'cloudtap.io/v1alpha1',
    kind: 'CloudTap',
    metadata: { name: 'tap', namespace: 'default', creationTimestamp: '2026-11-25T11:00:00Z' },
    spec: { source: { provider: 's3', bucket: 'b' }, targets: [], ...(stitcher ? { stitcher } : {}) },
    ...(status ? { status } : {}),
  };
}

/** A checkpoint ConfigMap per shard, its report made by the stitcher's own encoder: `mbps` over 10 s ending `ageMs` ago. */
function reports(...shards: { mbps: number; lagMs?: number; ageMs?: number }[]): (name: string) => V1ConfigMap | undefined {
  const byName = new Map<string, V1ConfigMap>();
  shards.forEach(({ mbps, lagMs, ageMs = 0 }, index) => {
    const atMs = now - ageMs;
    const report = shardStatus(
      { bytes: 0, atMs: atMs - 10_000 },
      { bytes: (mbps * 1e6 * 10) / 8, atMs, newestExportedNs: lagMs === undefined ? undefined : BigInt(atMs - lagMs) * 1_000_000n },
    );
    byName.set(`tap-shard-${index}-checkpoint`, { data: { 'checkpoint.json': '{}', [statusReportKey]: encodeShardStatus(report) } });
  });
  return (name) => byName.get(name);
}

describe('operator/controller/shard-reports', () => {
  it('reads the key the stitcher writes', () => {
    expect(statusReportKey).to.equal(STATUS_REPORT_KEY);
  });

  it('sums the throughput and takes the largest lag over the current shards', () => {
    const load = reportedLoad(tap(), 3, reports({ mbps: 120, lagMs: 4_000 }, { mbps: 80, lagMs: 31_400 }, { mbps: 300, lagMs: 9_000 }), { nowMs: now });
    expect(load).to.deep.include({ throughputMbps: 500, lagSeconds: 31, stalled: [] });
  });

  it('ignores the reports of shards beyond the count (left behind by a scale-in)', () => {
    const load = reportedLoad(tap(), 1, reports({ mbps: 10, lagMs: 2_000 }, { mbps: 990, lagMs: 500_000, ageMs: 3_600_000 }), { nowMs: now });
    expect(load).to.deep.include({ throughputMbps: 10, lagSeconds: 2, stalled: [] });
  });

  it('calls a shard with an old report stalled and leaves it out of the numbers', () => {
    const load = reportedLoad(tap(), 2, reports({ mbps: 40, lagMs: 1_000 }, { mbps: 700, lagMs: 900_000, ageMs: 61_000 }), { nowMs: now });
    expect(load.throughputMbps).to.equal(40);
    expect(load.lagSeconds).to.equal(1);
    expect(load.stalled).to.deep.equal(['shard 1: no status report since 2026-11-25T11:58:59.000Z']);
  });

  it('gives no numbers without a fresh report, and asks to look again when the first fresh one would go stale', () => {
    const none = reportedLoad(tap(), 2, () => undefined, { nowMs: now });
    expect(none).to.deep.equal({ stalled: [] });
    const fresh = reportedLoad(tap(), 2, reports({ mbps: 1, ageMs: 20_000 }, { mbps: 1, ageMs: 5_000 }), { nowMs: now });
    expect(fresh.recheckAfterMs).to.equal(60_000 - 20_000 + 1000);
    expect(fresh).to.not.have.property('lagSeconds');
  });

  it('scales the staleness with a long poll interval', () => {
    const slow = tap(undefined, { pollInterval: '1m30s' });
    expect(pollIntervalMs(slow)).to.equal(90_000);
    const load = reportedLoad(slow, 1, reports({ mbps: 5, lagMs: 100_000, ageMs: 300_000 }), { nowMs: now });
    expect(load.stalled).to.deep.equal([]);
    expect(load.lagSeconds).to.equal(100);
  });

  it('ignores reports older than the CloudTap: a deleted namesake left them', () => {
    const load = reportedLoad(tap(), 1, reports({ mbps: 5, lagMs: 1_000, ageMs: 2 * 3_600_000 }), { nowMs: now });
    expect(load).to.deep.equal({ stalled: [] });
  });

  it('says which shard has an unreadable report, without quoting it', () => {
    const broken = (name: string) => (name === 'tap-shard-0-checkpoint' ? { data: { [statusReportKey]: '{"throughputMbps":"fast"}' } } : undefined);
    expect(reportedLoad(tap(), 1, broken, { nowMs: now }).stalled).to.deep.equal(['shard 0: status.json in ConfigMap tap-shard-0-checkpoint has no throughputMbps >= 0']);
  });

  it('keeps the stored numbers while they move by no more than noise', () => {
    const stored = tap({ throughputMbps: 500, lagSeconds: 30 });
    // +8% throughput, lag 9 s off (under the 10 s poll interval): nothing to write.
    expect(reportedLoad(stored, 1, reports({ mbps: 540, lagMs: 39_000 }), { nowMs: now })).to.deep.include({ throughputMbps: 500, lagSeconds: 30 });
    // +20% throughput, lag doubled: both written.
    expect(reportedLoad(stored, 1, reports({ mbps: 600, lagMs: 60_000 }), { nowMs: now })).to.deep.include({ throughputMbps: 600, lagSeconds: 60 });
  });

  it('caches the report of a checkpoint ConfigMap and not the checkpoint', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tap-shard-0-checkpoint' }, data: { 'checkpoint.json': 'x'.repeat(100_000), [statusReportKey]: '{}' } };
    expect(reportOnly(configMap)).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tap-shard-0-checkpoint' }, data: { [statusReportKey]: '{}' } });
    expect(reportOnly({ ...configMap, data: { 'checkpoint.json': '{}' } })).to.not.have.property('data');
  });

  it('rounds to two significant digits, and treats sub-0.1 Mbit/s moves as noise', () => {
    expect(roundSignificant(123.4, 2)).to.equal(120);
    expect(roundSignificant(0.0347, 2)).to.equal(0.035);
    expect(roundSignificant(0, 2)).to.equal(0);
    expect(settled(0, 0.05, 0.1)).to.equal(0);
    expect(settled(0, 0.2, 0.1)).to.equal(0.2);
    expect(settled(1000, 1090, 0.1)).to.equal(1000);
    expect(settled(1000, 1120, 0.1)).to.equal(1120);
    expect(settled(undefined, 7, 0.1)).to.equal(7);
  });
});
