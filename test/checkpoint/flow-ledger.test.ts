import { expect } from 'chai';
import { FlowLedger } from '../../stitcher/checkpoint/flow-ledger.js';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import type { ResumableStage, StagePoint } from '../../stitcher/flow/resumable.js';
import { close, CloseReason, data, Direction, flowId, open, RecordingConsumer } from '../flow/records.js';

const SECOND = 1_000_000_000n;
const GW = 'gw';

/** A stage that holds exactly the flows it is told to (a key gate waiting for keys, say). */
class HoldingStage implements ResumableStage {
  readonly held = new Set<string>();
  holds(_gateway: string, key: string): boolean {
    return this.held.has(key);
  }
  resumePoint(): StagePoint {
    return {};
  }
  expectResume(): void {}
}

function setup(keepCloses = true): { ledger: FlowLedger; table: FlowTable; out: RecordingConsumer; stage: HoldingStage } {
  const out = new RecordingConsumer();
  const stage = new HoldingStage();
  const ledger = new FlowLedger(out, keepCloses, { stages: [stage], synthesizers: [] });
  // No reorder window: bytes are handed on as they come, so the marks move with every object.
  const table = new FlowTable(ledger, { reorderWindowNs: 0n });
  return { ledger, table, out, stage };
}

/** Object `seq` of the gateway, read to its end (written after its records: the table hands on all of them). */
function readObject(ledger: FlowLedger, table: FlowTable, seq: bigint, records: Parameters<FlowTable['ingestBlock']>[1]): void {
  ledger.reading(GW, seq);
  table.ingestBlock(GW, records);
  table.endOfObject(GW, seq * 10n * SECOND);
  ledger.objectDone(GW, table);
}

describe('checkpoint/flow-ledger', () => {
  it('hands every flow on unchanged and keeps the newest record time', () => {
    const { ledger, table, out } = setup();
    const id = flowId(1);
    readObject(ledger, table, 1n, [open(id, { tsNs: SECOND }), data(id, Direction.ClientToServer, 0, Buffer.alloc(10), 2n * SECOND)]);
    expect(out.calls).to.deep.equal(['open 01', `data 01 ${2n * SECOND}`]);
    expect(ledger.newestTsNs).to.equal(2n * SECOND);
    expect([...ledger.positions()], 'the next object to read').to.deep.equal([[GW, 2n, 2n]]);
  });

  it('takes the object a resume reads a flow again from, and forgets the marks before it', () => {
    const { ledger, table } = setup();
    const id = flowId(2);
    const key = id.toString('hex');
    readObject(ledger, table, 1n, [open(id, { tsNs: SECOND }), data(id, Direction.ClientToServer, 0, Buffer.alloc(100), SECOND)]);
    readObject(ledger, table, 2n, [data(id, Direction.ClientToServer, 100, Buffer.alloc(50), 2n * SECOND)]);
    readObject(ledger, table, 3n, [data(id, Direction.ServerToClient, 0, Buffer.alloc(20), 3n * SECOND)]);
    expect(ledger.openSeqOf(GW, key)).to.equal(1n);
    expect(ledger.takeResumeSeq(GW, key, [120, 0]), 'byte 120 came in object 2').to.equal(2n);
    expect(ledger.takeResumeSeq(GW, key, [0, 0]), 'the marks before were taken: a resume never goes back').to.equal(2n);
    expect(ledger.takeResumeSeq(GW, key, [150, 20]), 'everything handed on: the next object').to.equal(4n);
  });

  it('notes closed flows and prunes those closed before a resume position for good', () => {
    const { ledger, table } = setup();
    const [a, b] = [flowId(3), flowId(4)];
    readObject(ledger, table, 1n, [open(a, { tsNs: SECOND }), open(b, { tsNs: SECOND })]);
    readObject(ledger, table, 2n, [close(a, CloseReason.FinFromClient, 0, 0, 2n * SECOND)]);
    readObject(ledger, table, 3n, [close(b, CloseReason.FinFromClient, 0, 0, 3n * SECOND)]);
    expect(ledger.pruneToClosedSince(GW, 2n)).to.deep.equal([a.toString('hex'), b.toString('hex')]);
    expect(ledger.pruneToClosedSince(GW, 3n)).to.deep.equal([b.toString('hex')]);
    expect(ledger.pruneToClosedSince(GW, 0n), 'pruned for good').to.deep.equal([b.toString('hex')]);
  });

  it('keeps a flow a stage still holds past its close lingering, until the stage lets it go', () => {
    const { ledger, table, stage } = setup();
    const id = flowId(5);
    const key = id.toString('hex');
    readObject(ledger, table, 1n, [open(id, { tsNs: SECOND })]);
    stage.held.add(key);
    readObject(ledger, table, 2n, [close(id, CloseReason.FinFromServer, 0, 0, 2n * SECOND)]);
    expect(ledger.sweepLingering(GW).map((flow) => flow.identity.key)).to.deep.equal([key]);
    expect(ledger.pruneToClosedSince(GW, 0n), 'not closed while held').to.deep.equal([]);
    stage.held.delete(key);
    expect(ledger.sweepLingering(GW), 'let go: swept').to.deep.equal([]);
    expect(ledger.pruneToClosedSince(GW, 0n)).to.deep.equal([key]);
  });

  it('notes nothing of closes without checkpoints', () => {
    const { ledger, table } = setup(false);
    const id = flowId(6);
    readObject(ledger, table, 1n, [open(id, { tsNs: SECOND }), close(id, CloseReason.FinFromClient, 0, 0, SECOND)]);
    expect(ledger.pruneToClosedSince(GW, 0n)).to.deep.equal([]);
    expect(ledger.openSeqOf(GW, id.toString('hex'))).to.equal(0n);
  });
});
