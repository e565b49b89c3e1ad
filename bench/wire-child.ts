/**
 * The wire-export measurement in a process of its own (pinned to one core by
 * bench/run.ts): synthesises the packets of a few large flows once, then times
 * them through the VXLAN sink against a bare dgram loop. Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { CloseReason, Direction, RecordType, type FlowOpenRecord } from '../stitcher/format/records.js';
import { TcpSynthesizer } from '../stitcher/flow/tcp-synthesizer.js';
import type { Packet } from '../stitcher/packet/packet.js';
import { benchWireExport } from './wire-export.js';

const FLOWS = 8;
const BYTES_PER_FLOW = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;

function flowOpen(index: number): FlowOpenRecord {
  return {
    type: RecordType.FlowOpen, flowId: randomBytes(16), tsNs: 1_800_000_000_000_000_000n, ipVersion: 4, l4: 6,
    clientIp: Buffer.from([10, 0, 0, index + 1]), clientPort: 40000 + index, serverIp: Buffer.from([198, 51, 100, 7]), serverPort: 443, tags: {},
  };
}

/** The packets of FLOWS downloads, copied out of the synthesiser's reused memory. */
function synthesise(): Packet[] {
  const packets: Packet[] = [];
  const synth = new TcpSynthesizer((p) => packets.push({ tsNs: p.tsNs, header: Buffer.from(p.header), payload: Buffer.from(p.payload) }), { maxSegmentPayload: 1398 });
  const body = randomBytes(CHUNK);
  for (let i = 0; i < FLOWS; i++) {
    const open = flowOpen(i);
    const flow = { key: open.flowId.toString('hex'), gateway: 'bench', open };
    synth.openFlow(flow);
    for (let offset = 0; offset < BYTES_PER_FLOW; offset += CHUNK) {
      synth.flowEvent(flow, { kind: 'data', dir: Direction.ServerToClient, tsNs: open.tsNs + BigInt(offset), offset: BigInt(offset), payload: body });
    }
    synth.flowEvent(flow, { kind: 'close', tsNs: open.tsNs + 1_000_000_000n, reason: CloseReason.FinFromServer });
  }
  return packets;
}

const packets = synthesise();
const result = await benchWireExport(packets);
process.stdout.write(`${JSON.stringify({ packets: packets.length, ...result })}\n`);
