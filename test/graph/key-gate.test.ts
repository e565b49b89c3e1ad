import { expect } from 'chai';
import { Direction } from '../../stitcher/format/records.js';
import type { FlowEvent, FlowIdentity } from '../../stitcher/flow/events.js';
import { KeyGate } from '../../stitcher/graph/key-gate.js';
import { KeyStore } from '../../stitcher/tls/key-store.js';
import { flowId, open, RecordingConsumer } from '../flow/records.js';

const MS = 1_000_000n;
const SECOND = 1_000n * MS;

function flow(n: number, tsNs = SECOND): FlowIdentity {
  const id = flowId(n);
  return { key: id.toString('hex'), gateway: 'gw', open: open(id, { tsNs }) };
}

/** The start of a TLS 1.2 ClientHello record carrying `random` (what the gate reads; the rest never matters to it). */
function clientHello(random: Buffer): Buffer {
  const header = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]);
  return Buffer.concat([header, random, Buffer.alloc(30)]);
}

function randomOf(n: number): Buffer {
  return Buffer.alloc(32, n);
}

function keyLine(random: Buffer): string {
  return `CLIENT_RANDOM ${random.toString('hex')} ${'ab'.repeat(48)}\n`;
}

function data(payload: Buffer, tsNs: bigint, offset = 0, dir = Direction.ClientToServer): FlowEvent {
  return { kind: 'data', dir, tsNs, offset: BigInt(offset), payload };
}

function gateOf(options: ConstructorParameters<typeof KeyGate>[2] = {}): { gate: KeyGate; keys: KeyStore; out: RecordingConsumer } {
  const keys = new KeyStore();
  const out = new RecordingConsumer();
  return { gate: new KeyGate(keys, out, options), keys, out };
}

describe('graph/key-gate', () => {
  it('lets a plain flow through at once', () => {
    const { gate, out } = gateOf();
    const plain = flow(1);
    gate.openFlow(plain);
    gate.flowEvent(plain, data(Buffer.from('GET / HTTP/1.1\r\n\r\n'), SECOND));
    expect(out.calls).to.deep.equal(['open 01', `data 01 ${SECOND}`]);
    expect(gate.holds('gw', plain.key)).to.equal(false);
  });

  it('holds a TLS flow until its keys arrive, then hands on everything in order', () => {
    const { gate, keys, out } = gateOf();
    const tls = flow(2);
    gate.openFlow(tls);
    gate.flowEvent(tls, data(clientHello(randomOf(2)), SECOND));
    gate.flowEvent(tls, data(Buffer.alloc(100, 1), SECOND + MS, 0, Direction.ServerToClient));
    expect(out.calls, 'nothing before the keys').to.deep.equal([]);
    expect(gate.holds('gw', tls.key)).to.equal(true);
    expect(gate.resumePoint('gw', tls.key), 'a checkpoint hands a held flow again from its start').to.deep.equal({ heldFrom: [0, 0] });
    keys.addKeyLog(keyLine(randomOf(2)));
    expect(out.calls).to.deep.equal(['open 02', `data 02 ${SECOND}`, `data 02 ${SECOND + MS}`]);
    gate.flowEvent(tls, data(Buffer.alloc(10), SECOND + 2n * MS, 100, Direction.ServerToClient));
    expect(out.calls.at(-1), 'after the keys, events pass at once').to.equal(`data 02 ${SECOND + 2n * MS}`);
    expect(gate.resumePoint('gw', tls.key)).to.deep.equal({ state: 'passed' });
  });

  it('lets a TLS flow whose keys are known already through at once', () => {
    const { gate, keys, out } = gateOf();
    keys.addKeyLog(keyLine(randomOf(3)));
    const tls = flow(3);
    gate.openFlow(tls);
    gate.flowEvent(tls, data(clientHello(randomOf(3)), SECOND));
    expect(out.calls).to.deep.equal(['open 03', `data 03 ${SECOND}`]);
  });

  it('finds the client random when the ClientHello comes in pieces', () => {
    const { gate, keys, out } = gateOf();
    const tls = flow(4);
    const hello = clientHello(randomOf(4));
    gate.openFlow(tls);
    gate.flowEvent(tls, data(hello.subarray(0, 20), SECOND));
    gate.flowEvent(tls, data(hello.subarray(20), SECOND + MS, 20));
    keys.addKeyLog(keyLine(randomOf(4)));
    expect(out.calls).to.deep.equal(['open 04', `data 04 ${SECOND}`, `data 04 ${SECOND + MS}`]);
  });

  it('gives up waiting after keyWaitMs of capture time: the flow goes on without its keys', () => {
    const { gate, out } = gateOf({ keyWaitMs: 1000 });
    const tls = flow(5);
    const other = flow(6);
    gate.openFlow(tls);
    gate.flowEvent(tls, data(clientHello(randomOf(5)), SECOND));
    gate.openFlow(other);
    gate.flowEvent(other, data(Buffer.from('plain'), SECOND + 900n * MS));
    expect(out.calls.filter((call) => call.endsWith('05') || call.includes(' 05 ')), 'still waiting at 0.9 s').to.deep.equal([]);
    gate.flowEvent(other, data(Buffer.from('plain'), SECOND + 1200n * MS, 5));
    expect(out.calls.filter((call) => call.includes(' 05')), 'let go past 1 s').to.deep.equal(['open 05', `data 05 ${SECOND}`]);
  });

  it('lets a TLS flow read behind later traffic go on at once when its own wait has run out', () => {
    const { gate, out } = gateOf({ keyWaitMs: 1000 });
    const waitingNow = flow(7, 60n * SECOND);
    gate.openFlow(waitingNow);
    gate.flowEvent(waitingNow, data(clientHello(randomOf(7)), 60n * SECOND));
    const behind = flow(8);
    gate.openFlow(behind);
    gate.flowEvent(behind, data(clientHello(randomOf(8)), SECOND));
    expect(out.calls.filter((call) => call.includes(' 08')), 'capture time stood still, yet it went on').to.deep.equal(['open 08', `data 08 ${SECOND}`]);
  });

  it('lets a waiting flow go on once it holds more than keyWaitBytes', () => {
    const { gate, out } = gateOf({ keyWaitBytes: 1000 });
    const tls = flow(7);
    gate.openFlow(tls);
    gate.flowEvent(tls, data(clientHello(randomOf(7)), SECOND));
    gate.flowEvent(tls, data(Buffer.alloc(900), SECOND + MS, 0, Direction.ServerToClient));
    expect(out.calls, 'under the limit').to.deep.equal([]);
    gate.flowEvent(tls, data(Buffer.alloc(100), SECOND + 2n * MS, 900, Direction.ServerToClient));
    expect(out.calls).to.deep.equal(['open 07', `data 07 ${SECOND}`, `data 07 ${SECOND + MS}`, `data 07 ${SECOND + 2n * MS}`]);
    expect(gate.holds('gw', tls.key)).to.equal(false);
  });

  it('past maxHeldBytes in all, lets the flow that waited longest go first', () => {
    const { gate, out } = gateOf({ maxHeldBytes: 1000 });
    const older = flow(8, SECOND);
    const newer = flow(9, 2n * SECOND);
    for (const [identity, n] of [[older, 8], [newer, 9]] as const) {
      gate.openFlow(identity);
      gate.flowEvent(identity, data(clientHello(randomOf(n)), identity.open.tsNs));
    }
    expect(out.calls).to.deep.equal([]);
    gate.flowEvent(newer, data(Buffer.alloc(900), 2n * SECOND + MS, 0, Direction.ServerToClient));
    expect(out.opened.map((f) => f.key), 'the older flow goes, the newer still fits').to.deep.equal([older.key]);
    expect(gate.holds('gw', newer.key)).to.equal(true);
  });

  it('hands on every flow still held at the end of a run', () => {
    const { gate, out } = gateOf();
    const tls = flow(10);
    gate.openFlow(tls);
    gate.flowEvent(tls, data(clientHello(randomOf(10)), SECOND));
    gate.flowEvent(tls, { kind: 'close', tsNs: SECOND + MS, reason: undefined });
    expect(out.calls).to.deep.equal([]);
    gate.flush();
    expect(out.calls).to.deep.equal(['open 0a', `data 0a ${SECOND}`, `close 0a ${SECOND + MS}`]);
  });

  it('lets a flow through at once that a checkpoint says had passed already', () => {
    const { gate, out } = gateOf();
    const tls = flow(11);
    gate.expectResume('gw', tls.key, 'passed');
    gate.openFlow(tls);
    gate.flowEvent(tls, data(Buffer.alloc(50), SECOND, 300, Direction.ServerToClient));
    expect(out.calls).to.deep.equal(['open 0b', `data 0b ${SECOND}`]);
  });
});
