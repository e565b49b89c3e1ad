/**
 * Puts finished objects into their store, one PUT each, one at a time.
 * Knobs of a real fleet: a window from which objects leave in random order
 * (parallel uploads finishing out of seq order), and key objects held back
 * until all traffic is written, or traffic held until all keys are.
 * Objects held back by those knobs stay in memory: they are test knobs.
 */
import type { ObjectStore } from '../store/store.js';
import type { KeysTiming, WrittenObject } from './options.js';
import type { SeededRandom } from './random.js';

export interface PendingObject extends WrittenObject {
  readonly data: Buffer;
}

export interface UploaderOptions {
  readonly traffic: ObjectStore;
  readonly keys: ObjectStore;
  readonly random: SeededRandom;
  /** @default 0 (in order) */
  readonly reorderWindow?: number;
  /** @default 'with-traffic' */
  readonly keysTiming?: KeysTiming;
  /** Above this many bytes waiting, the gateway's readers pause. @default 64 MiB */
  readonly maxPendingBytes?: number;
}

export class Uploader {
  /** Every object in the order its upload finished. */
  readonly written: WrittenObject[] = [];
  private readonly window: PendingObject[] = [];
  private readonly queue: PendingObject[] = [];
  private readonly heldBack: PendingObject[] = [];
  private pendingBytes = 0;
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(private readonly options: UploaderOptions) {}

  add(object: PendingObject): void {
    if (this.failure !== undefined) return; // finish() reports the first failure; the rest of the run is moot
    const timing = this.options.keysTiming ?? 'with-traffic';
    if ((timing === 'after-traffic' && object.kind === 'keys') || (timing === 'before-traffic' && object.kind === 'traffic')) {
      this.heldBack.push(object);
      return;
    }
    this.window.push(object);
    if (this.window.length > Math.max(1, this.options.reorderWindow ?? 0) - 1) this.release();
  }

  /** A promise to wait on when too many bytes wait for upload, else undefined. */
  backpressure(): Promise<void> | undefined {
    if (this.pendingBytes <= (this.options.maxPendingBytes ?? 64 * 1024 * 1024)) return undefined;
    if (this.drained === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** Uploads everything still waiting (held-back objects last) and rethrows the first upload error. */
  async finish(): Promise<void> {
    while (this.window.length > 0) this.release();
    this.queue.push(...this.options.random.shuffle(this.heldBack.splice(0)).sort((a, b) => order(a, b, this.options.reorderWindow)));
    this.pump();
    while (this.running !== undefined) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Moves one object from the window to the upload queue: the oldest, or a random one when reordering. */
  private release(): void {
    const reorder = (this.options.reorderWindow ?? 0) > 1;
    const index = reorder ? this.options.random.int(0, this.window.length - 1) : 0;
    const [object] = this.window.splice(index, 1);
    this.queue.push(object!);
    this.pendingBytes += object!.data.length;
    this.pump();
  }

  private pump(): void {
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let object = this.queue.shift(); object !== undefined; object = this.queue.shift()) {
      const store = object.kind === 'keys' ? this.options.keys : this.options.traffic;
      try {
        await store.write(object.key, object.data);
      } catch (error) {
        this.failure ??= new Error(`while writing ${object.kind} object ${object.key} to ${store.description}: ${(error as Error).message}`);
      }
      const { data, ...info } = object;
      this.pendingBytes = Math.max(0, this.pendingBytes - data.length);
      this.written.push(info);
      if (this.drained !== undefined && this.backpressure() === undefined) {
        this.drained.resolve();
        this.drained = undefined;
      }
    }
  }
}

/** Held-back objects go in seq order unless reordering was asked for. */
function order(a: PendingObject, b: PendingObject, reorderWindow: number | undefined): number {
  if ((reorderWindow ?? 0) > 1) return 0;
  if (a.gateway !== b.gateway) return a.gateway < b.gateway ? -1 : 1;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}
