/**
 * Which folders a polling reader lists this poll, so that its store calls
 * follow the folders that are active rather than every folder there is. A
 * folder whose last listing found something new is listed every poll; one
 * that found nothing waits one back-off step before its next listing, and
 * each further empty listing doubles the step, up to `maxQuietMs`. A folder
 * never seen is due at once. So a quiet folder's new object is seen within
 * `maxQuietMs` and one poll, and a bucket of many quiet gateways costs
 * about gateways x poll / maxQuietMs listings a poll instead of one each.
 */

export interface ListingScheduleOptions {
  /** The reader's poll interval: the first back-off step, and the slack a due time is met with. */
  readonly pollIntervalMs: number;
  /** Longest a quiet folder goes unlisted. @default 10 s */
  readonly maxQuietMs?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
}

export const DEFAULT_MAX_QUIET_MS = 10_000;

interface FolderTurn {
  /** When the folder is to be listed next (ms). */
  readonly dueMs: number;
  /** The back-off step that set `dueMs`: 0 while the folder is active. */
  readonly stepMs: number;
}

export class ListingSchedule {
  private readonly turns = new Map<string, FolderTurn>();
  private readonly pollIntervalMs: number;
  private readonly maxQuietMs: number;
  private readonly now: () => number;

  constructor(options: ListingScheduleOptions) {
    if (!(options.pollIntervalMs >= 0)) throw new Error(`listing schedule: the poll interval must be 0 or more ms, not ${options.pollIntervalMs}`);
    this.pollIntervalMs = options.pollIntervalMs;
    this.maxQuietMs = Math.max(options.maxQuietMs ?? DEFAULT_MAX_QUIET_MS, options.pollIntervalMs);
    this.now = options.now ?? Date.now;
  }

  /** Folders the schedule keeps a turn for. */
  get size(): number {
    return this.turns.size;
  }

  /**
   * Whether `folder` is to be listed now: never listed, active, or quiet with
   * its turn come. Half a poll of slack, so a turn due just after a poll is
   * taken at that poll rather than one poll later.
   */
  isDue(folder: string): boolean {
    const turn = this.turns.get(folder);
    return turn === undefined || this.now() + this.pollIntervalMs / 2 >= turn.dueMs;
  }

  /** `folder` was listed now and its listing found something new (it stays active) or nothing (it backs off). */
  listed(folder: string, foundNew: boolean): void {
    const previous = this.turns.get(folder)?.stepMs ?? 0;
    const stepMs = foundNew ? 0 : Math.min(this.maxQuietMs, previous === 0 ? Math.max(1, this.pollIntervalMs) : previous * 2);
    this.turns.set(folder, { dueMs: this.now() + stepMs, stepMs });
  }

  /** Forgets the folders that sort before `first` (folders of hours that left the window: `yyyy/mm/dd/hh/` sorts by time). */
  forgetBefore(first: string): void {
    for (const folder of this.turns.keys()) if (folder < first) this.turns.delete(folder);
  }
}
