/**
 * Hands every packet to every output and remembers whether any of them asked
 * the producer to wait; the producer awaits `drained()` between blocks.
 */
import type { Packet } from '../packet/packet.js';
import type { PacketSink } from '../export/sink.js';

export interface OutputCounters {
  packets: number;
  bytes: number;
}

export class Fanout {
  readonly counters: OutputCounters[];
  private waiting: PacketSink[] = [];

  constructor(private readonly sinks: readonly PacketSink[]) {
    this.counters = sinks.map(() => ({ packets: 0, bytes: 0 }));
  }

  readonly emit = (packet: Packet): void => {
    const length = packet.header.length + packet.payload.length;
    for (let i = 0; i < this.sinks.length; i++) {
      const sink = this.sinks[i]!;
      const counter = this.counters[i]!;
      counter.packets++;
      counter.bytes += length;
      if (!sink.write(packet) && !this.waiting.includes(sink)) this.waiting.push(sink);
    }
  };

  get mustWait(): boolean {
    return this.waiting.length > 0;
  }

  async drained(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    await Promise.all(waiting.map((sink) => sink.drain()));
  }
}
