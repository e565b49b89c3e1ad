import { expect } from 'chai';
import type { PacketSink, SinkCapabilities } from '../../stitcher/export/sink.js';
import { emptyWireStats, type WireCapability } from '../../stitcher/export/wire-sink.js';
import { Direction } from '../../stitcher/format/records.js';
import type { FlowEvent, FlowIdentity } from '../../stitcher/flow/events.js';
import { ExportGraph, type ExportTarget } from '../../stitcher/graph/export-graph.js';
import type { Variant } from '../../stitcher/graph/output-options.js';
import type { Packet } from '../../stitcher/packet/packet.js';
import { KeyStore } from '../../stitcher/tls/key-store.js';
import { flowId, open } from '../flow/records.js';

const SECOND = 1_000_000_000n;

/** Keeps what it is handed; declares what it is told to. */
class KeepingSink implements PacketSink {
  readonly packets: Packet[] = [];
  constructor(readonly description: string, readonly capabilities?: SinkCapabilities) {}
  write(packet: Packet): boolean {
    this.packets.push({ ...packet, header: Buffer.from(packet.header), payload: Buffer.from(packet.payload) });
    return true;
  }
  async drain(): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function target(sink: PacketSink, variant: Variant = 'original', remap: readonly string[] = []): ExportTarget {
  return { sink, options: { url: sink.description, variant, remap } };
}

function flow(n: number): FlowIdentity {
  const id = flowId(n);
  return { key: id.toString('hex'), gateway: 'gw', open: open(id, { tsNs: SECOND }) };
}

function data(payload: Buffer, dir = Direction.ClientToServer, offset = 0): FlowEvent {
  return { kind: 'data', dir, tsNs: SECOND + 1000n, offset: BigInt(offset), payload };
}

/** The start of a ClientHello record (enough for the key gate to take the flow for TLS and read its random). */
const CLIENT_HELLO = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]), Buffer.alloc(32, 7), Buffer.alloc(30)]);

function send(graph: ExportGraph, identity: FlowIdentity, payload: Buffer): void {
  graph.consumer.openFlow(identity);
  graph.consumer.flowEvent(identity, data(payload));
}

describe('graph/export-graph', () => {
  it('gives outputs that want the same packets one synthesiser, and each the same packets', () => {
    const [a, b] = [new KeepingSink('a'), new KeepingSink('b')];
    const graph = new ExportGraph([target(a), target(b)]);
    expect(graph.synthesizers).to.have.length(1);
    send(graph, flow(1), Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(a.packets.length).to.be.greaterThan(0);
    expect(b.packets.map((p) => Buffer.concat([p.header, p.payload]).toString('hex'))).to.deep.equal(a.packets.map((p) => Buffer.concat([p.header, p.payload]).toString('hex')));
    expect(graph.packets).to.equal(a.packets.length);
    const handed = { packets: a.packets.length, exportedPackets: a.packets.length, droppedPackets: 0 };
    expect(graph.outputs.map((o) => ({ packets: o.packets, exportedPackets: o.exportedPackets, droppedPackets: o.droppedPackets }))).to.deep.equal([handed, handed]);
  });

  it('gives outputs with other remapping their own synthesiser', () => {
    const graph = new ExportGraph([target(new KeepingSink('a')), target(new KeepingSink('b'), 'original', ['client:100.64.0.0/10'])]);
    expect(graph.synthesizers).to.have.length(2);
  });

  it('puts a key gate in front of the outputs that declare they carry secrets, and only theirs', () => {
    const keys = new KeyStore();
    const plain = new KeepingSink('pcap');
    const carrier = new KeepingSink('pcapng', { secrets: { addSecrets: () => undefined } });
    // Other remapping, so another synthesiser: outputs that share one share its gate.
    const graph = new ExportGraph([target(plain, 'original', ['client:100.64.0.0/10']), target(carrier)], { keyGate: { keys } });
    expect(graph.gates).to.have.length(1);
    send(graph, flow(2), CLIENT_HELLO);
    expect(plain.packets.length, 'the plain output gets the TLS flow at once').to.be.greaterThan(0);
    expect(carrier.packets, 'the secrets carrier waits for its keys').to.deep.equal([]);
    keys.addKeyLog(`CLIENT_RANDOM ${Buffer.alloc(32, 7).toString('hex')} ${'ab'.repeat(48)}\n`);
    expect(carrier.packets.length).to.equal(plain.packets.length);
  });

  it('sizes segments to what a wire output declares, and reports what it says it sent', () => {
    const stats = { ...emptyWireStats(), packets: 3, bytes: 300, dropped: 2, errorsByCode: { ECONNREFUSED: 1 } };
    const wire: WireCapability = { stats, maxSegmentPayload: (ipVersion) => (ipVersion === 4 ? 100 : 80) };
    const sink = new KeepingSink('vxlan', { wire });
    const graph = new ExportGraph([target(sink)]);
    send(graph, flow(3), Buffer.alloc(1000, 1));
    const payloads = sink.packets.map((p) => p.payload.length).filter((length) => length > 0);
    expect(Math.max(...payloads), 'the smaller of the IPv4 and IPv6 caps').to.equal(80);
    expect(graph.outputs[0]).to.deep.include({ exportedPackets: 3, exportedBytes: 300, droppedPackets: 2, sendErrorsByCode: { ECONNREFUSED: 1 } });
  });

  it('refuses a clear-text output when decryption is not set up, saying so', () => {
    expect(() => new ExportGraph([target(new KeepingSink('clear'), 'cleartext')])).to.throw(/variant cleartext or both, but TLS decryption is not set up/);
  });
});
