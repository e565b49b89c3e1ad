import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { HoldArena, type HeldCopy } from '../../stitcher/flow/hold-arena.js';

const KIB = 1024;

/** Copies `count` chunks of 64 KiB (16 to a 1 MiB slab). */
function hold(arena: HoldArena, count: number): HeldCopy[] {
  return Array.from({ length: count }, (_, i) => arena.copy(Buffer.alloc(64 * KIB, i)));
}

describe('flow/hold-arena', () => {
  it('copies bytes so that they outlive their block, and reuses a slab once all its chunks are gone', () => {
    const arena = new HoldArena(4);
    const source = Buffer.from('abc');
    const copy = arena.copy(source);
    source.fill(0);
    expect(copy.bytes.toString()).to.equal('abc');
    const slabs = new Set(hold(arena, 40).map((c) => c.slab));
    expect(slabs.size, '40 x 64 KiB (and 3 B) in 1 MiB slabs').to.equal(3);
  });

  it('keeps as many empty slabs for reuse as it was given, and lets them go once nothing was held for a quarter of a second', async () => {
    const arena = new HoldArena(4);
    const first = hold(arena, 16 * 8);
    const firstSlabs = new Set(first.map((c) => c.slab));
    for (const c of first) arena.release(c.slab!);
    expect(arena.spareSlabs, 'at most the four it may keep').to.equal(4);
    const again = hold(arena, 16 * 5);
    const reused = new Set(again.map((c) => c.slab).filter((slab) => firstSlabs.has(slab)));
    expect(reused.size, 'the spares and the current slab, not new ones').to.equal(5);
    for (const c of again) arena.release(c.slab!);
    expect(arena.spareSlabs).to.equal(4);
    await sleep(300);
    expect(arena.spareSlabs, 'idle for a quarter of a second').to.equal(0);
  });

  it('keeps its spares while something is held again within the quarter second', async () => {
    const arena = new HoldArena(2);
    for (const c of hold(arena, 48)) arena.release(c.slab!);
    const held = hold(arena, 1);
    await sleep(300);
    expect(arena.spareSlabs, 'not idle: something is held').to.equal(2);
    arena.release(held[0]!.slab!);
  });

  it('sizes its spares to a quarter of the budget, 1 to 64 slabs', () => {
    expect([0, 4 << 20, 128 << 20, 1 << 30].map((b) => HoldArena.spareSlabsFor(b))).to.deep.equal([1, 1, 32, 64]);
  });
});
