/** The checkpoint format: versioned JSON that round-trips, refuses what it cannot trust, and stays under its bound. */
import { expect } from 'chai';
import { CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint, mergeGateways, type Checkpoint, type FlowCheckpoint } from '../../stitcher/checkpoint/checkpoint.js';

function flow(i: number, lastRecordTs: bigint): FlowCheckpoint {
  return {
    open: { id: i.toString(16).padStart(32, '0'), ts: '1764000000000000000', ip: 4, l4: 6, client: '0a000001', clientPort: 40000 + i, server: '0a000002', serverPort: 443, tags: { user: 'a@example.com', clientMss: 1400 } },
    exported: [100 + i, 2000 + i],
    lastTs: '1764000000000000100', lastRecordTs: lastRecordTs.toString(), openSeq: '3',
    tcp: [{ lastTs: '1764000000000000100', client: [101, 101, 0, 65535, 7], server: [2001, 2001, 101, 65535, 9] }, null],
  };
}

function checkpoint(flows: number, gateways = 2): Checkpoint {
  const entries = Object.fromEntries(Array.from({ length: gateways }, (_, g) => [`gw-${g}`, {
    resumeSeq: '3', nextSeq: '12345678901234567890', lastHour: '2026/11/25/15/', closed: ['f'.repeat(32)],
    flows: Array.from({ length: flows }, (_, i) => flow(g * 1000 + i, BigInt(i))),
  }]));
  return { version: CHECKPOINT_VERSION, shard: { index: 1, count: 3 }, writtenAt: '2026-11-25T15:00:00.000Z', newestExportedNs: '1764000000000000100', gateways: entries };
}

describe('pipeline/checkpoint', () => {
  it('round-trips through JSON text, <seq> beyond 2^53 included', () => {
    const original = checkpoint(3);
    const { text, flowsLeftOut } = encodeCheckpoint(original);
    expect(flowsLeftOut).to.equal(0);
    const back = decodeCheckpoint(text, 'test');
    expect(back).to.deep.equal(original);
    expect(BigInt(back.gateways['gw-0']!.nextSeq)).to.equal(12345678901234567890n);
  });

  it('refuses another version and names the field at fault', () => {
    const text = JSON.stringify({ ...checkpoint(1), version: 2 });
    expect(() => decodeCheckpoint(text, 'file:///x/shard-1.json')).to.throw(/file:\/\/\/x\/shard-1.json has version 2; this stitcher reads version 1/);
    const bad = checkpoint(2);
    const broken = JSON.parse(JSON.stringify(bad)) as { gateways: Record<string, { flows: { exported: unknown }[] }> };
    broken.gateways['gw-1']!.flows[1]!.exported = [1];
    expect(() => decodeCheckpoint(JSON.stringify(broken), 'cm')).to.throw(/checkpoint cm: gateways.gw-1.flows\[1\].exported does not hold two offsets/);
    expect(() => decodeCheckpoint('{"version":1', 'cm')).to.throw(/checkpoint cm is not JSON/);
    const behind = { ...checkpoint(0), gateways: { g: { resumeSeq: '9', nextSeq: '3', closed: [], flows: [] } } };
    expect(() => decodeCheckpoint(JSON.stringify(behind), 'cm')).to.throw(/gateways.g.resumeSeq is after nextSeq/);
  });

  it('stays under its size bound by leaving out the flows idle longest, and counts them', () => {
    const big = checkpoint(2000);
    const full = encodeCheckpoint(big, 100 * 1024 * 1024).text.length;
    const bound = Math.floor(full / 2);
    const { text, flowsLeftOut } = encodeCheckpoint(big, bound);
    expect(Buffer.byteLength(text)).to.be.at.most(bound);
    expect(flowsLeftOut).to.be.greaterThan(0);
    const kept = Object.values(decodeCheckpoint(text, 'test').gateways).flatMap((g) => g.flows);
    expect(kept.length + flowsLeftOut).to.equal(4000);
    // the most recently active flows are the ones kept
    const oldestKept = kept.reduce((min, f) => (BigInt(f.lastRecordTs) < min ? BigInt(f.lastRecordTs) : min), BigInt(Number.MAX_SAFE_INTEGER));
    expect(Number(oldestKept)).to.be.at.least(Math.floor(flowsLeftOut / 2) - 1);
    expect(() => encodeCheckpoint(checkpoint(0, 50), 500)).to.throw(/50 gateways need \d+ bytes even without open flows, over the bound of 500/);
  });

  it('merges shards by taking, per gateway, the entry furthest along', () => {
    const a = { ...checkpoint(0), writtenAt: '2026-11-25T15:00:00Z', gateways: { x: { resumeSeq: '5', nextSeq: '9', closed: [], flows: [] }, y: { resumeSeq: '1', nextSeq: '2', closed: [], flows: [] } } };
    const b = { ...checkpoint(0), writtenAt: '2026-11-25T14:00:00Z', gateways: { x: { resumeSeq: '2', nextSeq: '4', closed: [], flows: [] }, y: { resumeSeq: '3', nextSeq: '7', closed: [], flows: [] } } };
    const merged = mergeGateways([a, b]);
    expect(merged.get('x')?.nextSeq).to.equal('9');
    expect(merged.get('y')?.nextSeq).to.equal('7');
  });
});
