import { expect } from 'chai';
import { encodeShardStatus, shardStatus, STATUS_REPORT_KEY } from '../../stitcher/shard/status-report.js';

const t0 = Date.parse('2026-11-25T12:00:00.000Z');
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

describe('pipeline/status-report', () => {
  it('reports the tapped bytes of the interval in Mbit/s', () => {
    // 25 MB in 10 s: 2.5 MB/s, 20 Mbit/s.
    const report = shardStatus({ bytes: 1_000_000, atMs: t0 }, { bytes: 26_000_000, atMs: t0 + 10_000, newestExportedNs: ns(t0 + 7_500) });
    expect(report.throughputMbps).to.equal(20);
    expect(report.lagSeconds).to.equal(2.5);
    expect(report.updatedAt).to.equal('2026-11-25T12:00:10.000Z');
  });

  it('counts the lag from the newest exported record to now, to the millisecond', () => {
    const report = shardStatus(undefined, { bytes: 5, atMs: t0, newestExportedNs: ns(t0 - 93_250) + 999_999n });
    expect(report.lagSeconds).to.equal(93.25);
  });

  it('says 0 Mbit/s for the first report, an idle interval, or no time passing', () => {
    expect(shardStatus(undefined, { bytes: 1e9, atMs: t0, newestExportedNs: undefined }).throughputMbps).to.equal(0);
    expect(shardStatus({ bytes: 7, atMs: t0 }, { bytes: 7, atMs: t0 + 10_000, newestExportedNs: undefined }).throughputMbps).to.equal(0);
    expect(shardStatus({ bytes: 7, atMs: t0 }, { bytes: 900, atMs: t0, newestExportedNs: undefined }).throughputMbps).to.equal(0);
  });

  it('leaves the lag out before the first record is exported, and never makes it negative', () => {
    const none = shardStatus(undefined, { bytes: 0, atMs: t0, newestExportedNs: undefined });
    expect(none).to.not.have.property('lagSeconds');
    const skewed = shardStatus(undefined, { bytes: 0, atMs: t0, newestExportedNs: ns(t0 + 4_000) });
    expect(skewed.lagSeconds).to.equal(0);
  });

  it('keeps three decimals, so a tiny tap still shows', () => {
    // 1234 bytes in 3 s: 3290.67 bit/s.
    const report = shardStatus({ bytes: 0, atMs: t0 }, { bytes: 1234, atMs: t0 + 3000, newestExportedNs: undefined });
    expect(report.throughputMbps).to.equal(0.003);
  });

  it('encodes as the JSON the operator reads under status.json', () => {
    const report = shardStatus({ bytes: 0, atMs: t0 }, { bytes: 125_000, atMs: t0 + 1000, newestExportedNs: ns(t0) });
    expect(STATUS_REPORT_KEY).to.equal('status.json');
    expect(JSON.parse(encodeShardStatus(report))).to.deep.equal({ throughputMbps: 1, lagSeconds: 1, updatedAt: '2026-11-25T12:00:01.000Z' });
  });
});
