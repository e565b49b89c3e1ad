/**
 * When and what to write as the shard's checkpoint. A checkpoint may only
 * claim bytes that are exported: the caller flushes every output before it
 * offers a snapshot (on a clean stop it closes them), so a snapshot is stored
 * at once. Writes that would change nothing are skipped.
 */
import { encodeCheckpoint, DEFAULT_MAX_CHECKPOINT_BYTES, type Checkpoint } from './checkpoint.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { Logger } from '../observe/log.js';

export interface CheckpointerOptions {
  readonly store: CheckpointStore;
  /** @default 10000 */
  readonly intervalMs?: number;
  /** @default 921600 (900 KiB: a ConfigMap holds at most 1 MiB) */
  readonly maxBytes?: number;
  readonly logger: Logger;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
}

export interface CheckpointStats {
  written: number;
  /** Writes skipped because nothing changed. */
  unchanged: number;
  failed: number;
  /** Open flows left out of checkpoints to stay under the size bound. */
  flowsLeftOut: number;
  /** Size of the last checkpoint written. */
  bytes: number;
  /** Date.now() of the last checkpoint stored (or confirmed unchanged); 0 before the first. */
  lastStoredMs: number;
}

export class Checkpointer {
  readonly stats: CheckpointStats = { written: 0, unchanged: 0, failed: 0, flowsLeftOut: 0, bytes: 0, lastStoredMs: 0 };
  readonly intervalMs: number;
  private readonly now: () => number;
  private lastTakenMs = -Infinity;
  private lastBody: string | undefined;

  constructor(private readonly options: CheckpointerOptions) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get description(): string {
    return this.options.store.description;
  }

  /** Whether a snapshot is due (every interval). */
  due(): boolean {
    return this.now() - this.lastTakenMs >= this.intervalMs;
  }

  /**
   * Stores `snapshot`, taken after the outputs were flushed. Never throws: a failed
   * write is logged and counted, and the next one tries again.
   */
  async offer(snapshot: Checkpoint, report?: () => string): Promise<void> {
    this.lastTakenMs = this.now();
    await this.store(snapshot, report?.());
  }

  /** A status report goes out every time (the operator calls a shard stalled without one); an unchanged checkpoint alone does not. */
  private async store(checkpoint: Checkpoint, report: string | undefined): Promise<void> {
    try {
      const encoded = encodeCheckpoint(checkpoint, this.options.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES);
      if (encoded.flowsLeftOut > 0) {
        this.stats.flowsLeftOut += encoded.flowsLeftOut;
        this.options.logger.error('checkpoint over its size bound: open flows left out (they cannot be resumed)', {
          checkpoint: this.description, flowsLeftOut: encoded.flowsLeftOut,
        });
      }
      const body = encoded.text.replace(/"writtenAt":"[^"]*"/, '');
      if (body === this.lastBody && report === undefined) {
        this.stats.unchanged++;
      } else {
        await this.options.store.write(encoded.text, report);
        this.lastBody = body;
        this.stats.written++;
        this.stats.bytes = Buffer.byteLength(encoded.text);
      }
      this.stats.lastStoredMs = this.now();
    } catch (error) {
      this.stats.failed++;
      this.options.logger.error('could not write the checkpoint', { checkpoint: this.description, error: (error as Error).message });
    }
  }
}
