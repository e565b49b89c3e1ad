/**
 * Prometheus metrics of a stitch run. The data path keeps plain counters; this
 * reads them at scrape time, so counting costs nothing on the hot path.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { StitchStats } from './stitch.js';

type Read = (stats: StitchStats) => number;

const COUNTERS: Record<string, [help: string, read: Read]> = {
  cloudtap_objects_read_total: ['CTAP traffic objects read', (s) => s.objects],
  cloudtap_objects_damaged_total: ['CTAP traffic objects with damage (reported and skipped in part)', (s) => s.damaged],
  cloudtap_object_bytes_read_total: ['Bytes of CTAP traffic objects read', (s) => s.bytesRead],
  cloudtap_seq_gaps_total: ['Ranges of object <seq> numbers missing from a gateway stream', (s) => s.seqGaps],
  cloudtap_flows_opened_total: ['Flows opened', (s) => s.flows.flowsOpened],
  cloudtap_flows_closed_total: ['Flows closed', (s) => s.flows.flowsClosed],
  cloudtap_tapped_bytes_total: ['Tapped payload bytes delivered in order to the outputs', (s) => s.flows.bytesOut],
  cloudtap_holes_total: ['Holes in flows (GAP records and bytes that never arrived)', (s) => s.flows.holes],
  cloudtap_hole_bytes_total: ['Bytes missing in holes', (s) => s.flows.gapHoleBytes + s.flows.missingHoleBytes],
  cloudtap_forced_flushes_total: ['Times a buffer cap made a flow give up waiting for missing bytes', (s) => s.flows.forcedFlushesFlowCap + s.flows.forcedFlushesTotalCap],
  cloudtap_packets_synthesised_total: ['TCP/IP packets synthesised', (s) => s.packets.packets],
};

export function createMetrics(stats: () => StitchStats | undefined): Registry {
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
  new Gauge({
    name: 'cloudtap_buffered_bytes', help: 'Out-of-order bytes held by flow reassembly now', registers: [registry],
    collect() {
      const current = stats();
      if (current !== undefined) this.set(current.flows.bufferedBytes);
    },
  });
  return registry;
}
