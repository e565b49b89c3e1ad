/** Test-only builders of decoded CTAP records and a consumer that remembers what it got. */
import {
  CloseReason, Direction, RecordType,
  type DataRecord, type FlowCloseRecord, type FlowOpenRecord, type GapRecord,
} from '../../stitcher/format/records.js';
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../../stitcher/flow/events.js';

export { CloseReason, Direction };

export function flowId(n: number): Buffer {
  const id = Buffer.alloc(16);
  id.writeUInt32BE(0xc0ffee00, 0);
  id.writeUInt32BE(n, 12);
  return id;
}

export interface OpenOptions {
  readonly tsNs?: bigint;
  readonly ipVersion?: 4 | 6;
  readonly clientMss?: number;
  readonly serverMss?: number;
  /** @default 50123 */
  readonly clientPort?: number;
}

export function open(id: Buffer, options: OpenOptions = {}): FlowOpenRecord {
  const v4 = (options.ipVersion ?? 4) === 4;
  return {
    type: RecordType.FlowOpen, flowId: id, tsNs: options.tsNs ?? 1_000_000_000n, ipVersion: v4 ? 4 : 6, l4: 6,
    clientIp: v4 ? Buffer.from([10, 0, 0, 7]) : Buffer.from('fd000000000000000000000000000007', 'hex'),
    clientPort: options.clientPort ?? 50123,
    serverIp: v4 ? Buffer.from([93, 184, 216, 34]) : Buffer.from('20010db8000000000000000000000443', 'hex'),
    serverPort: 443,
    tags: { clientMss: options.clientMss, serverMss: options.serverMss },
  };
}

export function data(id: Buffer, dir: Direction, offset: number, payload: Buffer, tsNs: bigint): DataRecord {
  return { type: RecordType.Data, flowId: id, tsNs, dir, offset: BigInt(offset), payload };
}

export function gap(id: Buffer, dir: Direction, offset: number, length: number, tsNs: bigint): GapRecord {
  return { type: RecordType.Gap, flowId: id, tsNs, dir, offset: BigInt(offset), length: BigInt(length) };
}

export function close(id: Buffer, reason: CloseReason, bytesC2s: number, bytesS2c: number, tsNs: bigint): FlowCloseRecord {
  return { type: RecordType.FlowClose, flowId: id, tsNs, reason, bytesC2s: BigInt(bytesC2s), bytesS2c: BigInt(bytesS2c) };
}

export interface SeenEvent {
  readonly flow: string;
  readonly event: FlowEvent;
}

/** Keeps every event, payloads copied (they may be views valid during the call only). */
export class RecordingConsumer implements FlowConsumer {
  readonly opened: FlowIdentity[] = [];
  readonly events: SeenEvent[] = [];
  /** The payload buffers as handed on, uncopied, to check for zero-copy. */
  readonly rawPayloads: Buffer[] = [];

  /** Every call in order: `open <key>` or `<kind> <key> <tsNs>`. */
  readonly calls: string[] = [];

  openFlow(flow: FlowIdentity): void {
    this.opened.push(flow);
    this.calls.push(`open ${flow.key.slice(-2)}`);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    this.calls.push(`${event.kind} ${flow.key.slice(-2)} ${event.tsNs}`);
    if (event.kind === 'data') {
      this.rawPayloads.push(event.payload);
      this.events.push({ flow: flow.key, event: { ...event, payload: Buffer.from(event.payload) } });
    } else {
      this.events.push({ flow: flow.key, event });
    }
  }

  of(id: Buffer): FlowEvent[] {
    const key = id.toString('hex');
    return this.events.filter((seen) => seen.flow === key).map((seen) => seen.event);
  }

  /** One direction's bytes with holes filled by `fill` bytes, and the holes seen. */
  stream(id: Buffer, dir: Direction): { bytes: Buffer; holes: Array<{ offset: number; length: number; cause: string }> } {
    const parts: Buffer[] = [];
    const holes: Array<{ offset: number; length: number; cause: string }> = [];
    let next = 0;
    for (const event of this.of(id)) {
      if (event.kind === 'close' || event.dir !== dir) continue;
      if (Number(event.offset) !== next) throw new Error(`stream not contiguous at ${next}: event at ${event.offset}`);
      if (event.kind === 'data') {
        parts.push(event.payload);
        next += event.payload.length;
      } else {
        holes.push({ offset: Number(event.offset), length: Number(event.length), cause: event.cause });
        parts.push(Buffer.alloc(Number(event.length)));
        next += Number(event.length);
      }
    }
    return { bytes: Buffer.concat(parts), holes };
  }
}
