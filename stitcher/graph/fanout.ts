/**
 * Hands every packet to every output and remembers whether any of them asked
 * the producer to wait; the producer awaits `drained()` between blocks. A lone
 * output that takes frames in place (a capture file) gets each segment written
 * straight into its memory: no Packet, no header buffer, one copy of the payload.
 */
import type { Packet } from '../packet/packet.js';
import { PacketBuilder, type SegmentOutput, type TcpPath } from '../packet/tcp-frame.js';
import type { TcpFields } from '../packet/tcp.js';
import type { FrameWriter, PacketSink } from '../export/sink.js';

export interface OutputCounters {
  packets: number;
  bytes: number;
}

export class Fanout implements SegmentOutput {
  readonly counters: OutputCounters[];
  private waiting: PacketSink[] = [];
  private readonly inPlace: FrameWriter | undefined;
  private readonly packets: PacketBuilder;

  constructor(private readonly sinks: readonly PacketSink[]) {
    this.counters = sinks.map(() => ({ packets: 0, bytes: 0 }));
    this.inPlace = sinks.length === 1 ? sinks[0]!.capabilities?.frames : undefined;
    this.packets = new PacketBuilder(this.emit);
  }

  segment(tsNs: bigint, path: TcpPath, tcp: TcpFields, payload: Buffer, start: number, end: number): void {
    const sink = this.inPlace;
    if (sink !== undefined) {
      const length = path.headerLength(tcp) + (end - start);
      const at = sink.reserveFrame(tsNs, length);
      if (at >= 0) {
        path.writeFrame(sink.frameBuffer, at, tcp, payload, start, end);
        const counter = this.counters[0]!;
        counter.packets++;
        counter.bytes += length;
        if (!sink.writable && this.waiting.length === 0) this.waiting.push(this.sinks[0]!);
        return;
      }
    }
    this.packets.segment(tsNs, path, tcp, payload, start, end);
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
