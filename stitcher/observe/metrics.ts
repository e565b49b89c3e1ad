/**
 * Prometheus metrics of a stitch run. The data path keeps plain counters; this
 * reads them at scrape time, so counting costs nothing on the hot path.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { OutputReport } from '../graph/export-graph.js';
import type { StitchStats } from '../run/stitch.js';

type Read = (stats: StitchStats) => number;

const COUNTERS: Record<string, [help: string, read: Read]> = {
  cloudtap_objects_listed_total: ['CTAP traffic objects found by listing (handed out for reading)', (s) => s.objectsKnown],
  cloudtap_objects_read_total: ['CTAP traffic objects read', (s) => s.objects],
  cloudtap_objects_damaged_total: ['CTAP traffic objects with damage (reported and skipped in part)', (s) => s.damaged],
  cloudtap_object_bytes_read_total: ['Bytes of CTAP traffic objects read', (s) => s.bytesRead],
  cloudtap_seq_gaps_total: ['Ranges of object <seq> numbers missing from a gateway stream', (s) => s.seqGaps],
  cloudtap_flows_opened_total: ['Flows opened', (s) => s.flows.flowsOpened],
  cloudtap_flows_closed_total: ['Flows closed', (s) => s.flows.flowsClosed],
  cloudtap_flows_closed_idle_total: ['Flows the stitcher closed itself: idle past --flow-idle-timeout, or their gateway went quiet for good', (s) => s.flows.flowsClosedIdle],
  cloudtap_tapped_bytes_total: ['DATA payload bytes read from the flows of CTAP objects (tapped = exported + duplicate + trimmed + late + buffered)', (s) => s.flows.tapped],
  cloudtap_exported_bytes_total: ['Tapped payload bytes handed on in order to the outputs', (s) => s.flows.exported],
  cloudtap_trimmed_bytes_total: ['Tapped bytes past the final length their FLOW_CLOSE gave, dropped', (s) => s.flows.trimmed],
  cloudtap_late_bytes_total: ['Tapped bytes that came after a buffer cap had given their range up as a hole, dropped', (s) => s.flows.late],
  cloudtap_orphan_records_total: ['Records of flows never opened (no FLOW_OPEN in their object), dropped', (s) => s.flows.orphanRecords],
  cloudtap_late_records_total: ['Records of flows already closed (objects read again, or DATA after FLOW_CLOSE), dropped', (s) => s.flows.lateRecords],
  cloudtap_invalid_records_total: ['Records with offsets or lengths past 2^53, dropped', (s) => s.flows.invalidRecords],
  cloudtap_forced_releases_total: ['Times a buffer cap made a flow hand on bytes before its reorder window passed', (s) => s.flows.forcedReleases],
  cloudtap_holes_total: ['Holes in flows (GAP records and bytes that never arrived)', (s) => s.flows.holes],
  cloudtap_hole_bytes_total: ['Bytes missing in holes', (s) => s.flows.holeBytes],
  cloudtap_duplicate_bytes_total: ['Tapped bytes dropped as already seen or already exported (repeats, resumes)', (s) => s.flows.duplicate],
  cloudtap_forced_flushes_total: ['Times a buffer cap made a flow give up waiting for missing bytes', (s) => s.flows.forcedFlushesFlowCap + s.flows.forcedFlushesTotalCap],
  cloudtap_packets_synthesised_total: ['TCP/IP packets synthesised', (s) => s.packets],
  cloudtap_tls_key_lines_total: ['TLS key log lines read from key objects', (s) => s.keyLines],
  cloudtap_tls_key_lines_invalid_total: ['Key log lines dropped as invalid (not NSS key log lines of a known label and length; never exported)', (s) => s.keyLinesInvalid],
  cloudtap_tls_key_objects_cut_total: ['Key objects not read past the per-object limit of key log text (32 MiB)', (s) => s.keyObjectsCut],
  cloudtap_tls_key_sessions_dropped_total: ['TLS sessions whose keys were dropped, oldest first, to keep the key store within its share of --max-buffer', (s) => s.keySessionsDropped],
  cloudtap_tls_key_lines_forgotten_total: ['Key log lines passed on whose memory was given up (age, count or share of --max-buffer): a repeat is passed on again', (s) => s.keyLinesForgotten],
  cloudtap_gateways_retired_total: ['Gateways retired: quiet, every object out of the look-back window', (s) => s.shard.gatewaysRetired],
  cloudtap_checkpoints_written_total: ['Checkpoints written', (s) => s.shard.checkpoint?.written ?? 0],
  cloudtap_checkpoint_failures_total: ['Checkpoint writes that failed', (s) => s.shard.checkpoint?.failed ?? 0],
  cloudtap_checkpoint_flows_left_out_total: ['Open flows left out of a checkpoint to keep it under its size bound', (s) => s.shard.checkpoint?.flowsLeftOut ?? 0],
};

const GAUGES: Record<string, [help: string, read: Read]> = {
  cloudtap_buffered_bytes: ['Out-of-order bytes held by flow reassembly now', (s) => s.flows.bufferedBytes],
  cloudtap_flows_open: ['Flows open now', (s) => s.flows.flowsOpen],
  cloudtap_backlog_objects: ['Objects listed and not read yet', (s) => s.objectsKnown - s.objects],
  cloudtap_gateways_waiting: ['Gateways waiting for a missing <seq> (up to --reorder-wait)', (s) => s.gatewaysWaiting],
  cloudtap_lag_seconds: ['Now minus the capture time of the newest packet exported', (s) => lagSeconds(s.newestExportedNs)],
  cloudtap_checkpoint_age_seconds: ['Seconds since the last checkpoint was stored', (s) => checkpointAge(s)],
  cloudtap_checkpoint_bytes: ['Size of the last checkpoint written', (s) => s.shard.checkpoint?.bytes ?? 0],
  cloudtap_ready: ['1 while the stitcher reads and exports (resumed, holding its Lease)', (s) => (s.shard.ready ? 1 : 0)],
};

export interface MetricsContext {
  /** The outputs' descriptions, in the order of `stats.outputs`, as the `output` label. */
  readonly outputs?: readonly string[];
  /** This stitcher's shard. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Whether the shard's Lease is held now (only in a cluster). */
  readonly leaseHeld?: () => boolean;
}

export function createMetrics(stats: () => StitchStats | undefined, context: MetricsContext = {}): Registry {
  const registry = new Registry();
  for (const [name, [help, read]] of Object.entries(COUNTERS)) {
    new Counter({
      name, help, registers: [registry],
      collect() {
        const current = stats();
        if (current === undefined) return;
        this.reset();
        this.inc(read(current));
      },
    });
  }
  for (const [name, [help, read]] of Object.entries(GAUGES)) {
    new Gauge({
      name, help, registers: [registry],
      collect() {
        const current = stats();
        if (current !== undefined) this.set(read(current));
      },
    });
  }
  outputMetrics(registry, stats, context.outputs ?? []);
  gatewayMetrics(registry, stats);
  if (context.shard !== undefined) {
    const shard = context.shard;
    new Gauge({ name: 'cloudtap_shard_info', help: 'This stitcher\'s shard (index and count as labels)', labelNames: ['index', 'count'], registers: [registry] })
      .set({ index: String(shard.index), count: String(shard.count) }, 1);
  }
  const leaseHeld = context.leaseHeld;
  if (leaseHeld !== undefined) {
    new Gauge({ name: 'cloudtap_lease_held', help: '1 while this pod holds its shard\'s Lease', registers: [registry], collect() { this.set(leaseHeld() ? 1 : 0); } });
  }
  return registry;
}

function outputMetrics(registry: Registry, stats: () => StitchStats | undefined, outputs: readonly string[]): void {
  const per = (name: string, help: string, read: (c: OutputReport) => number): void => {
    new Counter({
      name, help, labelNames: ['output'], registers: [registry],
      collect() {
        const current = stats();
        if (current === undefined) return;
        this.reset();
        current.outputs.forEach((counter, i) => this.inc({ output: outputs[i] ?? String(i) }, read(counter)));
      },
    });
  };
  per('cloudtap_output_packets_total', 'Packets handed to each output', (c) => c.packets);
  per('cloudtap_output_bytes_total', 'Frame bytes handed to each output', (c) => c.bytes);
  per('cloudtap_output_exported_packets_total', 'Packets each output wrote to its file or handed to the kernel', (c) => c.exportedPackets);
  per('cloudtap_output_exported_bytes_total', 'Bytes each output wrote or sent (wire outputs: with tunnel or record headers)', (c) => c.exportedBytes);
  per('cloudtap_output_dropped_packets_total', 'Packets a wire output did not send: no peer connected, queue full, client too slow', (c) => c.droppedPackets);
  new Counter({
    name: 'cloudtap_output_send_errors_total',
    help: 'Sends the kernel refused per wire output, by error code (ECONNREFUSED, EHOSTUNREACH, ...)',
    labelNames: ['output', 'code'], registers: [registry],
    collect() {
      const current = stats();
      if (current === undefined) return;
      this.reset();
      current.outputs.forEach((counter, i) => {
        const output = outputs[i] ?? String(i);
        for (const [code, count] of Object.entries(counter.sendErrorsByCode)) this.inc({ output, code }, count);
      });
    },
  });
}

/** What each gateway copied into the bucket, as read: the usage dashboard's per-gateway bytes. */
function gatewayMetrics(registry: Registry, stats: () => StitchStats | undefined): void {
  const per = (name: string, help: string, read: (c: { objects: number; bytes: number }) => number): void => {
    new Counter({
      name, help, labelNames: ['gateway'], registers: [registry],
      collect() {
        const current = stats();
        if (current === undefined) return;
        this.reset();
        for (const [gateway, counts] of current.byGateway) this.inc({ gateway }, read(counts));
      },
    });
  };
  per('cloudtap_gateway_objects_read_total', 'CTAP traffic objects read per gateway (past 256 gateways, the rest under gateway="_other")', (c) => c.objects);
  per('cloudtap_gateway_object_bytes_read_total', 'Bytes of CTAP traffic objects read per gateway (past 256 gateways, the rest under gateway="_other")', (c) => c.bytes);
}

function lagSeconds(newestNs: bigint): number {
  if (newestNs === 0n) return 0;
  return Math.max(0, Date.now() / 1000 - Number(newestNs / 1_000_000n) / 1000);
}

function checkpointAge(stats: StitchStats): number {
  const last = stats.shard.checkpoint?.lastStoredMs;
  return last === undefined || last === 0 ? 0 : (Date.now() - last) / 1000;
}
