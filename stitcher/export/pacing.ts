/**
 * Pacing in front of a wire sink: `pace=realtime` replays the original
 * inter-packet timing (from each packet's tsNs), `rate=` caps the outer bit
 * rate with a token bucket. Packets wait in a bounded queue (copied, so they
 * never pin the decoded CTAP blocks they came from); `write` returns false when
 * the queue is full, so a slow pace slows the reader instead of growing memory.
 */
import { performance } from 'node:perf_hooks';
import type { Packet } from '../packet/packet.js';
import type { Pace } from './wire-url.js';
import type { WireSink, WireStats } from './wire-sink.js';

export interface PacingOptions {
  /** @default 'asap' */
  readonly pace?: Pace;
  /** Cap in Mbit/s on outer bytes; undefined for none. */
  readonly rateMbps?: number;
  /** Bytes the encapsulation adds per packet (outer IP + UDP + tunnel header), counted by the rate. @default 0 */
  readonly overheadBytes?: number;
  /** Packets queued before `write` returns false; twice that is a hard cap (then dropped, counted). @default 4096 */
  readonly queuePackets?: number;
  /** Burst the token bucket allows, in milliseconds of the rate. @default 5 */
  readonly burstMs?: number;
}

/** Wraps `sink` when pacing is asked for; returns it unchanged for `asap` without a rate. */
export function pacedSink(sink: WireSink, options: PacingOptions): WireSink {
  if ((options.pace ?? 'asap') === 'asap' && options.rateMbps === undefined) return sink;
  return new PacedSink(sink, options);
}

class PacedSink implements WireSink {
  readonly description: string;
  readonly capabilities = { wire: this };
  private readonly queue: (Packet | undefined)[] = [];
  private head = 0;
  private readonly queuePackets: number;
  private readonly realtime: boolean;
  /** Rate in bits per millisecond, 0 for no cap. */
  private readonly bitsPerMs: number;
  private readonly bucketBits: number;
  private tokens: number;
  private lastRefill = performance.now();
  /** The first packet's capture time and the wall time it was sent at. */
  private anchor: { tsNs: bigint; wallMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private drainWaiters: (() => void)[] = [];
  private emptyWaiters: (() => void)[] = [];

  constructor(
    private readonly inner: WireSink,
    private readonly options: PacingOptions,
  ) {
    this.description = inner.description;
    this.queuePackets = options.queuePackets ?? 4096;
    this.realtime = options.pace === 'realtime';
    this.bitsPerMs = options.rateMbps === undefined ? 0 : options.rateMbps * 1000;
    // Enough for one jumbo frame even at very low rates.
    this.bucketBits = Math.max(this.bitsPerMs * (options.burstMs ?? 5), 9216 * 8 * 2);
    this.tokens = this.bucketBits;
  }

  get stats(): WireStats {
    return this.inner.stats;
  }

  maxSegmentPayload(innerIpVersion: 4 | 6): number {
    return this.inner.maxSegmentPayload(innerIpVersion);
  }

  write(packet: Packet): boolean {
    const queued = this.queue.length - this.head;
    if (queued >= this.queuePackets * 2) {
      this.inner.stats.dropped++;
      return false;
    }
    this.queue.push(copyPacket(packet));
    if (!this.pumping && this.timer === undefined) void this.pump();
    return queued + 1 < this.queuePackets;
  }

  drain(): Promise<void> {
    if (this.queue.length - this.head <= this.queuePackets >> 1) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async flush(): Promise<void> {
    await this.emptied();
    await this.inner.flush();
  }

  async close(): Promise<void> {
    await this.emptied();
    await this.inner.close();
  }

  /** Resolves once every queued packet went to the inner sink (at the pace asked for). */
  private async emptied(): Promise<void> {
    if (this.queue.length > this.head) await new Promise<void>((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Sends every packet that is due, then sleeps until the next one is. */
  private async pump(): Promise<void> {
    this.pumping = true;
    this.timer = undefined;
    while (this.head < this.queue.length) {
      const packet = this.queue[this.head]!;
      const waitMs = this.waitBefore(packet);
      if (waitMs > 0) {
        this.timer = setTimeout(() => void this.pump(), waitMs);
        this.pumping = false;
        return;
      }
      this.queue[this.head++] = undefined; // let the copy go
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.queue.length - this.head <= this.queuePackets >> 1) wake(this.drainWaiters);
      if (!this.inner.write(packet)) await this.inner.drain();
    }
    this.pumping = false;
    wake(this.drainWaiters);
    wake(this.emptyWaiters);
  }

  /** Milliseconds until `packet` may go; takes its tokens when it may go now. */
  private waitBefore(packet: Packet): number {
    const now = performance.now();
    if (this.realtime) {
      this.anchor ??= { tsNs: packet.tsNs, wallMs: now };
      const dueMs = this.anchor.wallMs + Number(packet.tsNs - this.anchor.tsNs) / 1e6;
      // Never early: a timer that fires a little late only delays this packet.
      if (dueMs > now) return Math.max(1, Math.ceil(dueMs - now));
    }
    if (this.bitsPerMs > 0) {
      this.tokens = Math.min(this.bucketBits, this.tokens + (now - this.lastRefill) * this.bitsPerMs);
      this.lastRefill = now;
      const bits = (packet.header.length + packet.payload.length + (this.options.overheadBytes ?? 0)) * 8;
      if (this.tokens < bits) return Math.max(1, Math.ceil((bits - this.tokens) / this.bitsPerMs));
      this.tokens -= bits;
    }
    return 0;
  }
}

/** One buffer for header and payload: a queued packet must not pin its CTAP block. */
function copyPacket(packet: Packet): Packet {
  const frame = Buffer.allocUnsafe(packet.header.length + packet.payload.length);
  packet.header.copy(frame, 0);
  packet.payload.copy(frame, packet.header.length);
  return { tsNs: packet.tsNs, header: frame.subarray(0, packet.header.length), payload: frame.subarray(packet.header.length) };
}

function wake(waiters: (() => void)[]): void {
  for (const resolve of waiters.splice(0)) resolve();
}
