import { expect } from 'chai';
import { VirtualClock } from '../../stitcher/generator/clock.js';
import type { FlowPlan } from '../../stitcher/generator/plan.js';
import { planFlows } from '../../stitcher/generator/plan.js';
import { SeededRandom } from '../../stitcher/generator/random.js';
import { FlowTap } from '../../stitcher/generator/tap.js';
import type { TapFaults } from '../../stitcher/generator/tap.js';
import { CloseReason, RecordType } from '../../stitcher/format/records.js';
import type { CtapRecord, DataRecord, GapRecord } from '../../stitcher/format/records.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { reassemble } from './read-back.js';

const NO_FAULTS: TapFaults = { resplitShare: 0, duplicateShare: 0, overlapShare: 0, gapBytes: 0 };

function tapWith(faults: TapFaults): { tap: FlowTap; records: CtapRecord[]; plan: FlowPlan } {
  const plan = planFlows({ traffic: {} as ObjectStore, flows: 1 }, new SeededRandom('tap'))[0]!;
  const records: CtapRecord[] = [];
  const tap = new FlowTap(plan, { add: (r) => records.push(r) }, new VirtualClock({ startNs: 1n, timeScale: 0 }), new SeededRandom('t'), faults);
  return { tap, records, plan };
}

/** 40 reads of 1 to 2000 bytes each way, all bytes distinct by position. */
function feed(tap: FlowTap): [Buffer, Buffer] {
  const random = new SeededRandom('reads');
  const streams: [Buffer[], Buffer[]] = [[], []];
  for (let i = 0; i < 40; i++) {
    const dir = i % 2;
    const read = random.bytes(random.int(1, 2000));
    streams[dir]!.push(read);
    tap.data(dir, read);
  }
  return [Buffer.concat(streams[0]), Buffer.concat(streams[1])];
}

const data = (records: CtapRecord[]): DataRecord[] => records.filter((r): r is DataRecord => r.type === RecordType.Data);

describe('generator: FlowTap', function () {
  it('writes FLOW_OPEN, DATA at running offsets and FLOW_CLOSE with the final counts', function () {
    const { tap, records, plan } = tapWith(NO_FAULTS);
    tap.open();
    const [c2s, s2c] = feed(tap);
    tap.close(CloseReason.FinFromServer);
    tap.close(CloseReason.RstFromClient);
    expect(records[0]!.type).to.equal(RecordType.FlowOpen);
    const close = records.at(-1)!;
    expect(close).to.include({ type: RecordType.FlowClose, reason: CloseReason.FinFromServer, bytesC2s: BigInt(c2s.length), bytesS2c: BigInt(s2c.length) });
    expect(records.filter((r) => r.type === RecordType.FlowClose)).to.have.length(1);
    expect(data(records)).to.have.length(40);
    expect(reassemble(data(records), 0, c2s.length).bytes).to.deep.equal(c2s);
    expect(reassemble(data(records), 1, s2c.length).bytes).to.deep.equal(s2c);
    for (const record of records) expect((record as DataRecord).flowId).to.deep.equal(plan.flowId);
    const times = records.map((r) => r.tsNs);
    expect(times.findIndex((t, i) => i > 0 && t <= times[i - 1]!), 'the first time not after the one before it').to.equal(-1);
  });

  it('re-splits, repeats and overlaps reads without changing a byte', function () {
    const { tap, records } = tapWith({ resplitShare: 0.5, duplicateShare: 0.3, overlapShare: 0.3, gapBytes: 0 });
    const [c2s, s2c] = feed(tap);
    const chunks = data(records);
    expect(chunks.length).to.be.greaterThan(60);
    for (const [dir, stream] of [[0, c2s], [1, s2c]] as const) {
      const result = reassemble(chunks, dir, stream.length);
      expect(result.conflicts).to.equal(0);
      expect(result.covered.findIndex((c) => c !== 1), `direction ${dir}: the first byte not read exactly once`).to.equal(-1);
      expect(result.bytes).to.deep.equal(stream);
    }
    const keys = chunks.map((c) => `${c.dir}:${c.offset}:${c.payload.length}`);
    expect(new Set(keys).size, 'some repeats').to.be.lessThan(keys.length);
  });

  it('cuts out one lost range of the server-to-client stream and writes it as GAP', function () {
    const { tap, records } = tapWith({ ...NO_FAULTS, gapOffset: 2500, gapBytes: 700 });
    const [, s2c] = feed(tap);
    const gaps = records.filter((r): r is GapRecord => r.type === RecordType.Gap);
    expect(gaps).to.have.length(1);
    const gap = gaps[0]!;
    expect(gap.dir).to.equal(1);
    const [start, length] = [Number(gap.offset), Number(gap.length)];
    expect(start).to.be.at.least(2500);
    expect(length).to.be.within(1, 700);
    expect(tap.gaps).to.deep.equal([{ dir: 's2c', offset: start, length }]);
    const result = reassemble(data(records), 1, s2c.length);
    for (let i = 0; i < s2c.length; i++) {
      const lost = i >= start && i < start + length;
      expect(result.covered[i], `byte ${i}`).to.equal(lost ? 0 : 1);
      if (!lost) expect(result.bytes[i]).to.equal(s2c[i]);
    }
  });
});
