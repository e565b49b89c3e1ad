/** Checkpoints are stored when offered, unchanged ones skipped, failures counted. */
import { expect } from 'chai';
import { Checkpointer } from '../../stitcher/checkpoint/checkpointer.js';
import { CHECKPOINT_VERSION, type Checkpoint } from '../../stitcher/checkpoint/checkpoint.js';
import type { CheckpointStore } from '../../stitcher/checkpoint/checkpoint-store.js';
import { silentLogger } from '../../stitcher/observe/log.js';

function at(nextSeq: number): Checkpoint {
  return {
    version: CHECKPOINT_VERSION, shard: { index: 0, count: 1 }, writtenAt: new Date(1_764_000_000_000 + nextSeq).toISOString(),
    gateways: { gw: { resumeSeq: '0', nextSeq: String(nextSeq), closed: [], flows: [] } },
  };
}

class MemoryStore implements CheckpointStore {
  readonly description = 'memory://';
  readonly written: number[] = [];
  failing = false;
  async readAll(): Promise<never[]> {
    return [];
  }
  async write(text: string): Promise<void> {
    if (this.failing) throw new Error('disk full');
    this.written.push(Number((JSON.parse(text) as Checkpoint).gateways.gw!.nextSeq));
  }
}

describe('pipeline/checkpointer', () => {
  it('is due every interval, stores what it is offered, skips unchanged ones', async () => {
    let now = 0;
    const store = new MemoryStore();
    const checkpointer = new Checkpointer({ store, intervalMs: 1000, logger: silentLogger(), now: () => now });
    expect(checkpointer.due(), 'before the first checkpoint').to.equal(true);
    await checkpointer.offer(at(1));
    expect(checkpointer.due(), 'just after one').to.equal(false);
    now = 999;
    expect(checkpointer.due(), '999 ms into a 1000 ms interval').to.equal(false);
    now = 1000;
    expect(checkpointer.due(), 'a whole interval later').to.equal(true);
    await checkpointer.offer(at(2));
    expect(store.written).to.deep.equal([1, 2]);
    now = 9000;
    await checkpointer.offer(at(2));
    expect(store.written, 'an unchanged checkpoint is not written again').to.deep.equal([1, 2]);
    expect(checkpointer.stats).to.include({ written: 2, unchanged: 1, failed: 0, lastStoredMs: 9000 });
  });

  it('counts a failed write and tries again with the next one', async () => {
    const store = new MemoryStore();
    const checkpointer = new Checkpointer({ store, logger: silentLogger() });
    store.failing = true;
    await checkpointer.offer(at(1));
    expect(checkpointer.stats.failed).to.equal(1);
    expect(checkpointer.stats.lastStoredMs).to.equal(0);
    store.failing = false;
    await checkpointer.offer(at(1));
    expect(store.written).to.deep.equal([1]);
  });
});
