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
 * steady run allocates a few slabs in all. When nothing at all is held any
 * more the arena lets its spare slabs go: an idle stitcher keeps one.
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
/** Empty slabs kept for reuse while anything is held; more are left to the garbage collector. */
const SPARE_SLABS = 8;

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
    if (--this.liveSlabs === 0) {
      // Nothing held: the spares go (an idle stitcher keeps one slab), the current one is reused from its start.
      this.spare = [];
    } else if (slab !== this.current && this.spare.length < SPARE_SLABS) {
      this.spare.push(slab);
    }
  }

  private slabWithRoom(length: number): Slab {
    const current = this.current;
    if (current !== undefined && current.used + length <= current.memory.length) return current;
    const next = this.spare.pop() ?? { memory: allocateSummable(SLAB_BYTES), used: 0, live: 0 };
    this.current = next;
    return next;
  }
}
