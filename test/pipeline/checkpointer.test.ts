/** When checkpoints are stored: at once when durable, held back otherwise, unchanged ones skipped, failures counted. */
import { expect } from 'chai';
import { Checkpointer } from '../../stitcher/pipeline/checkpointer.js';
import { CHECKPOINT_VERSION, type Checkpoint } from '../../stitcher/pipeline/checkpoint.js';
import type { CheckpointStore } from '../../stitcher/pipeline/checkpoint-store.js';
import { silentLogger } from '../../stitcher/pipeline/log.js';

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
  it('holds a snapshot until its bytes must be on disk, stores a durable one at once, skips unchanged ones', async () => {
    let now = 0;
    const store = new MemoryStore();
    const checkpointer = new Checkpointer({ store, intervalMs: 1000, holdMs: 2500, logger: silentLogger(), now: () => now });
    expect(checkpointer.due()).to.equal(true);
    await checkpointer.offer(at(1), false);
    expect(checkpointer.due()).to.equal(false);
    now = 1000;
    await checkpointer.offer(at(2), false);
    now = 2000;
    await checkpointer.offer(at(3), false);
    expect(store.written, 'nothing is stored before it waited holdMs').to.deep.equal([]);
    now = 2600;
    await checkpointer.offer(at(4), false);
    expect(store.written, 'the oldest held snapshot, once old enough').to.deep.equal([1]);
    await checkpointer.offer(at(5), true);
    expect(store.written).to.deep.equal([1, 5]);
    now = 9000;
    await checkpointer.offer(at(5), true);
    expect(store.written, 'an unchanged checkpoint is not written again').to.deep.equal([1, 5]);
    expect(checkpointer.stats).to.include({ written: 2, unchanged: 1, failed: 0, lastStoredMs: 9000 });
  });

  it('counts a failed write and tries again with the next one', async () => {
    const store = new MemoryStore();
    const checkpointer = new Checkpointer({ store, logger: silentLogger() });
    store.failing = true;
    await checkpointer.offer(at(1), true);
    expect(checkpointer.stats.failed).to.equal(1);
    expect(checkpointer.stats.lastStoredMs).to.equal(0);
    store.failing = false;
    await checkpointer.offer(at(1), true);
    expect(store.written).to.deep.equal([1]);
  });
});
