/**
 * The Prometheus registry of a stitch run: what a scrape reads from the run's
 * plain counters, read through prom-client's own exposition (as Prometheus sees it).
 */
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { emptyFlowTableStats } from '../../stitcher/flow/flow-stats.js';
import { createMetrics } from '../../stitcher/observe/metrics.js';
import type { StitchStats } from '../../stitcher/run/stitch.js';

type Labels = Record<string, string | number>;

/** A run's counters, each a different number so one read from the wrong field shows. */
function runStats(): StitchStats {
  const flows = { ...emptyFlowTableStats(), flowsOpened: 11, flowsClosed: 7, flowsOpen: 4, tapped: 9000, exported: 8000, forcedFlushesFlowCap: 2, forcedFlushesTotalCap: 3, bufferedBytes: 640 };
  return {
    polls: 8, objects: 30, objectsKnown: 42, damaged: 1, bytesRead: 123_456, seqGaps: 2, keyLines: 17, keyLinesInvalid: 3, keyObjectsCut: 1, keySessionsDropped: 5, keyLinesForgotten: 6, tls: undefined,
    flows, packets: 555, newestExportedNs: 0n, gatewaysWaiting: 1,
    outputs: [
      { packets: 500, bytes: 70_000, exportedPackets: 490, exportedBytes: 69_000, droppedPackets: 10, sendErrorsByCode: {} },
      { packets: 55, bytes: 6_000, exportedPackets: 50, exportedBytes: 5_500, droppedPackets: 5, sendErrorsByCode: { ECONNREFUSED: 4, EHOSTUNREACH: 1 } },
    ],
    shard: { gatewaysRetired: 0, resumedGateways: 0, resumedFlows: 0, ready: true, stoppedBy: undefined, checkpoint: undefined },
    byGateway: new Map([['gw-a', { objects: 20, bytes: 100_000 }], ['gw-b', { objects: 10, bytes: 23_456 }]]),
  };
}

/** The value of a series as a scrape reports it, or undefined when the scrape has no such series. */
async function scraped(registry: Registry, name: string, labels: Labels = {}): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name} in the registry`);
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  return values.find((value) => {
    const own = value.labels as Labels;
    return Object.keys(own).length === wanted.length && wanted.every(([key, text]) => String(own[key]) === String(text));
  })?.value;
}

describe('pipeline/metrics', () => {
  it('reads each counter and gauge from the run at scrape time, and reports what the run holds now rather than a sum of scrapes', async () => {
    let stats = runStats();
    const registry = createMetrics(() => stats);
    expect(await scraped(registry, 'cloudtap_objects_read_total')).to.equal(30);
    expect(await scraped(registry, 'cloudtap_objects_listed_total')).to.equal(42);
    expect(await scraped(registry, 'cloudtap_object_bytes_read_total')).to.equal(123_456);
    expect(await scraped(registry, 'cloudtap_flows_opened_total')).to.equal(11);
    expect(await scraped(registry, 'cloudtap_packets_synthesised_total')).to.equal(555);
    expect(await scraped(registry, 'cloudtap_tls_key_lines_invalid_total')).to.equal(3);
    expect(await scraped(registry, 'cloudtap_flows_open')).to.equal(4);
    expect(await scraped(registry, 'cloudtap_buffered_bytes')).to.equal(640);

    stats = { ...runStats(), objects: 31, packets: 600 };
    expect(await scraped(registry, 'cloudtap_objects_read_total'), 'a second scrape: the run\'s count, not 30 + 31').to.equal(31);
    expect(await scraped(registry, 'cloudtap_packets_synthesised_total')).to.equal(600);
  });

  it('derives the backlog, the forced flushes of both caps, readiness and the checkpoint counters', async () => {
    let stats = runStats();
    const registry = createMetrics(() => stats);
    expect(await scraped(registry, 'cloudtap_backlog_objects'), 'objects listed minus objects read').to.equal(12);
    expect(await scraped(registry, 'cloudtap_forced_flushes_total'), 'per-flow cap plus total cap').to.equal(5);
    expect(await scraped(registry, 'cloudtap_ready')).to.equal(1);
    expect(await scraped(registry, 'cloudtap_checkpoints_written_total'), 'no checkpointer: zero').to.equal(0);
    expect(await scraped(registry, 'cloudtap_checkpoint_age_seconds'), 'no checkpoint yet: zero').to.equal(0);

    const tenSecondsAgo = Date.now() - 10_000;
    const checkpoint = { written: 6, unchanged: 2, failed: 1, flowsLeftOut: 3, bytes: 4096, lastStoredMs: tenSecondsAgo };
    stats = { ...runStats(), shard: { ...runStats().shard, ready: false, checkpoint } };
    expect(await scraped(registry, 'cloudtap_ready')).to.equal(0);
    expect(await scraped(registry, 'cloudtap_checkpoints_written_total')).to.equal(6);
    expect(await scraped(registry, 'cloudtap_checkpoint_failures_total')).to.equal(1);
    expect(await scraped(registry, 'cloudtap_checkpoint_flows_left_out_total')).to.equal(3);
    expect(await scraped(registry, 'cloudtap_checkpoint_bytes')).to.equal(4096);
    expect(await scraped(registry, 'cloudtap_checkpoint_age_seconds')).to.be.within(10, 70);
  });

  it('measures the lag from the capture time of the newest packet exported, zero before the first', async () => {
    let stats = runStats();
    const registry = createMetrics(() => stats);
    expect(await scraped(registry, 'cloudtap_lag_seconds')).to.equal(0);
    stats = { ...runStats(), newestExportedNs: BigInt(Date.now() - 90_000) * 1_000_000n };
    expect(await scraped(registry, 'cloudtap_lag_seconds')).to.be.within(90, 150);
    stats = { ...runStats(), newestExportedNs: BigInt(Date.now() + 60_000) * 1_000_000n };
    expect(await scraped(registry, 'cloudtap_lag_seconds'), 'a packet stamped in the future is no negative lag').to.equal(0);
  });

  it('labels each output with its description (its index where none was given) and each refused send with its error code', async () => {
    const registry = createMetrics(runStats, { outputs: ['pcapng:///tmp/a.pcapng'] });
    expect(await scraped(registry, 'cloudtap_output_packets_total', { output: 'pcapng:///tmp/a.pcapng' })).to.equal(500);
    expect(await scraped(registry, 'cloudtap_output_packets_total', { output: '1' })).to.equal(55);
    expect(await scraped(registry, 'cloudtap_output_exported_bytes_total', { output: 'pcapng:///tmp/a.pcapng' })).to.equal(69_000);
    expect(await scraped(registry, 'cloudtap_output_dropped_packets_total', { output: '1' })).to.equal(5);
    expect(await scraped(registry, 'cloudtap_output_send_errors_total', { output: '1', code: 'ECONNREFUSED' })).to.equal(4);
    expect(await scraped(registry, 'cloudtap_output_send_errors_total', { output: '1', code: 'EHOSTUNREACH' })).to.equal(1);
    expect(await scraped(registry, 'cloudtap_output_send_errors_total', { output: 'pcapng:///tmp/a.pcapng', code: 'ECONNREFUSED' }), 'an output without refused sends has no series').to.equal(undefined);
  });

  it('counts objects and bytes per gateway', async () => {
    const registry = createMetrics(runStats);
    expect(await scraped(registry, 'cloudtap_gateway_objects_read_total', { gateway: 'gw-a' })).to.equal(20);
    expect(await scraped(registry, 'cloudtap_gateway_object_bytes_read_total', { gateway: 'gw-b' })).to.equal(23_456);
  });

  it('reports the shard as labels and whether its Lease is held, only when the run has them', async () => {
    let held = true;
    const clustered = createMetrics(runStats, { shard: { index: 2, count: 3 }, leaseHeld: () => held });
    expect(await scraped(clustered, 'cloudtap_shard_info', { index: '2', count: '3' })).to.equal(1);
    expect(await scraped(clustered, 'cloudtap_lease_held')).to.equal(1);
    held = false;
    expect(await scraped(clustered, 'cloudtap_lease_held')).to.equal(0);

    const alone = createMetrics(runStats);
    expect(alone.getSingleMetric('cloudtap_shard_info'), 'no shard given').to.equal(undefined);
    expect(alone.getSingleMetric('cloudtap_lease_held'), 'no Lease outside a cluster').to.equal(undefined);
  });

  it('reports no counts before the run has started, and every name in the text format Prometheus reads', async () => {
    const registry = createMetrics(() => undefined);
    expect(await scraped(registry, 'cloudtap_objects_read_total')).to.equal(0);
    expect(await scraped(registry, 'cloudtap_output_packets_total', { output: '0' })).to.equal(undefined);
    const text = await registry.metrics();
    for (const name of ['cloudtap_objects_read_total', 'cloudtap_lag_seconds', 'cloudtap_output_send_errors_total', 'cloudtap_gateway_objects_read_total']) {
      expect(text).to.include(`# TYPE ${name} `);
    }
  });
});
