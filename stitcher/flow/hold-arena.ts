/**
 * Where the flow table copies the bytes it still holds when a block ends (its
 * DATA payloads were views into the block, which is about to be reused).
 *
 * A buffer per held chunk made every byte of a run that spans objects an
 * allocation of its own, garbage to collect, and memory the SIMD checksum
 * cannot read in place (bench: all 134 MB of a 128 MB run went that way, and
 * were summed by the JS loop). Chunks are instead copied one after another into
 * large slabs from allocateSummable. A slab counts the chunks still alive in
 * it; once the last one is handed on or dropped the slab is reused, so a
 * steady run allocates a few slabs in all. Empty slabs wait as spares, as many
 * as the owner allows (a bulk run's flows hold their 8 MiB each and let go of
 * them at once: with 8 spares the rest were made anew each time, a WebAssembly
 * memory each, and 90% of a run's page faults were their fresh pages). Once
 * nothing at all has been held for IDLE_MS the arena lets its spares go: an
 * idle stitcher keeps one slab.
 *
 * Handing a slab back relies on the FlowConsumer contract (flow/events.ts):
 * payloads are valid during the call only, and a consumer that keeps bytes
 * copies them. A chunk never handed back simply keeps its slab alive until
 * the garbage collector takes both.
 */
import { allocateSummable } from '../packet/wasm-sum.js';

const SLAB_BYTES = 1024 * 1024;
/** Chunks from this size get a buffer of their own: a slab would be mostly one chunk, kept alive by it. */
const OWN_BUFFER_FROM = SLAB_BYTES / 8;
/** Empty slabs kept for reuse by default; more are left to the garbage collector. */
const DEFAULT_SPARE_SLABS = 8;
/** How long nothing may be held before the spares go. */
const IDLE_MS = 250;

export interface Slab {
  readonly memory: Buffer;
  /** Bytes handed out from the start of `memory`. */
  used: number;
  /** Chunks copied into it and not yet released. */
  live: number;
}

export interface HeldCopy {
  readonly bytes: Buffer;
  /** The slab to release the copy to once it is gone; undefined for a buffer of its own. */
  readonly slab: Slab | undefined;
}

export class HoldArena {
  private current: Slab | undefined;
  private spare: Slab[] = [];
  /** Slabs with a chunk alive in them. */
  private liveSlabs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `maxSpareSlabs`: empty slabs of SLAB_BYTES kept for reuse (the owner sizes it to its memory budget). */
  constructor(private readonly maxSpareSlabs = DEFAULT_SPARE_SLABS) {}

  /** The spare slabs `budgetBytes` of held bytes warrant: a quarter of it, 1 to 64 slabs. */
  static spareSlabsFor(budgetBytes: number): number {
    return Math.max(1, Math.min(64, Math.floor(budgetBytes / 4 / SLAB_BYTES)));
  }

  /** Empty slabs waiting for reuse (for tests). */
  get spareSlabs(): number {
    return this.spare.length;
  }

  /** A copy of `bytes` that outlives the block they are in. */
  copy(bytes: Buffer): HeldCopy {
    const length = bytes.length;
    if (length >= OWN_BUFFER_FROM) return { bytes: Buffer.from(bytes), slab: undefined };
    const slab = this.slabWithRoom(length);
    const at = slab.used;
    slab.memory.set(bytes, at);
    slab.used = at + length;
    if (slab.live++ === 0) this.liveSlabs++;
    return { bytes: slab.memory.subarray(at, at + length), slab };
  }

  /** A copy is gone (handed on or dropped): its slab is reused once nothing in it lives. */
  release(slab: Slab): void {
    slab.live--;
    if (slab.live > 0) return;
    slab.used = 0;
    if (slab !== this.current && this.spare.length < this.maxSpareSlabs) this.spare.push(slab);
    if (--this.liveSlabs === 0) this.letSparesGoWhenIdle();
  }

  /** Nothing held: unless something is again within IDLE_MS, the spares go (the current slab is reused from its start). */
  private letSparesGoWhenIdle(): void {
    if (this.idleTimer !== undefined) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      if (this.liveSlabs === 0) this.spare = [];
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private slabWithRoom(length: number): Slab {
    const current = this.current;
    if (current !== undefined && current.used + length <= current.memory.length) return current;
    const next = this.spare.pop() ?? { memory: allocateSummable(SLAB_BYTES), used: 0, live: 0 };
    this.current = next;
    return next;
  }
}
