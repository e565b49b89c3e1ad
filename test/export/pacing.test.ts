import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import type { Packet } from '../../stitcher/packet/packet.js';
import { pacedSink } from '../../stitcher/export/pacing.js';
import type { WireSink } from '../../stitcher/export/wire-sink.js';
import { emptyWireStats } from '../../stitcher/export/wire-sink.js';

/** A sink that records when each packet reached it (and can refuse more for a while). */
function recordingSink(): WireSink & { arrivals: { atMs: number; packet: Packet }[]; closed: boolean } {
  const sink = {
    description: 'recording',
    stats: emptyWireStats(),
    arrivals: [] as { atMs: number; packet: Packet }[],
    closed: false,
    write(packet: Packet) {
      sink.arrivals.push({ atMs: performance.now(), packet });
      return true;
    },
    drain: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    close: async () => {
      sink.closed = true;
    },
    maxSegmentPayload: () => 1000,
  };
  return sink;
}

function packet(tsNs: bigint, size = 100, fill = 0): Packet {
  return { tsNs, header: Buffer.alloc(54, fill), payload: Buffer.alloc(size - 54, fill) };
}

describe('export/pacing', () => {
  it('passes the sink through untouched for asap without a rate', () => {
    const sink = recordingSink();
    expect(pacedSink(sink, { pace: 'asap' })).to.equal(sink);
  });

  it('realtime: never sends a packet before its original offset from the first', async () => {
    const sink = recordingSink();
    const paced = pacedSink(sink, { pace: 'realtime' });
    const start = 1_000_000_000_000n;
    const offsetsMs = [0, 30, 31, 90, 150];
    for (const [i, offset] of offsetsMs.entries()) paced.write(packet(start + BigInt(offset) * 1_000_000n, 100, i));
    await paced.close();
    expect(sink.closed).to.equal(true);
    expect(sink.arrivals.map((arrival) => arrival.packet.header[0])).to.deep.equal([0, 1, 2, 3, 4]);
    const first = sink.arrivals[0]!.atMs;
    sink.arrivals.forEach((arrival, i) => expect(arrival.atMs - first, `packet ${i}`).to.be.at.least(offsetsMs[i]! - 0.5));
  });

  it('rate: keeps the bit rate under the cap beyond the first burst', async () => {
    const sink = recordingSink();
    const rateMbps = 20;
    const paced = pacedSink(sink, { rateMbps, overheadBytes: 50, burstMs: 5 });
    const count = 300;
    const size = 1250;
    for (let i = 0; i < count; i++) if (!paced.write(packet(BigInt(i), size))) await paced.drain();
    await paced.close();
    expect(sink.arrivals).to.have.length(count);
    const bits = count * (size + 50) * 8;
    const bucketBits = Math.max(rateMbps * 1000 * 5, 9216 * 8 * 2);
    const elapsedMs = sink.arrivals.at(-1)!.atMs - sink.arrivals[0]!.atMs;
    expect(elapsedMs).to.be.at.least((bits - bucketBits) / (rateMbps * 1000) - 1);
  });

  it('copies what it queues, so the producer may reuse its buffers', async () => {
    const sink = recordingSink();
    const paced = pacedSink(sink, { rateMbps: 1 });
    const reused = packet(1n, 100, 0xaa);
    paced.write(reused);
    paced.write(reused);
    reused.header.fill(0);
    reused.payload.fill(0);
    await paced.close();
    for (const { packet: sent } of sink.arrivals) {
      expect(sent.header.filter((byte) => byte !== 0xaa)).to.have.lengthOf(0);
      expect(sent.payload.filter((byte) => byte !== 0xaa)).to.have.lengthOf(0);
    }
  });

  it('is bounded: write says wait at the queue size, and drops (counted) at twice that', async () => {
    const sink = recordingSink();
    const paced = pacedSink(sink, { pace: 'realtime', queuePackets: 10 });
    // The second packet is due 200 ms after the first: everything behind it waits.
    paced.write(packet(0n));
    const answers: boolean[] = [];
    for (let i = 0; i < 30; i++) answers.push(paced.write(packet(200_000_000n + BigInt(i))));
    expect(answers.indexOf(false)).to.equal(9);
    expect(sink.stats.dropped).to.equal(10);
    let drained = false;
    const drain = paced.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).to.equal(false);
    await drain;
    await paced.close();
    expect(sink.arrivals).to.have.length(21);
  });
});
