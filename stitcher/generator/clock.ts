/**
 * The gateway's notion of time. Real elapsed time scaled by `timeScale`,
 * plus `nsPerByte` for every tapped byte, so that a test can make a run
 * cross an hour boundary at a chosen point in the traffic without waiting
 * for it. Never goes backwards and ticks at least 1 µs per reading, so that
 * records keep a strict order.
 */
const MIN_TICK_NS = 1000n;
const NS_PER_HOUR = 3_600_000_000_000n;

export interface VirtualClockOptions {
  /** Virtual time at the start of the run, ns since the Unix epoch. */
  readonly startNs: bigint;
  /** Virtual nanoseconds per real nanosecond. @default 1 */
  readonly timeScale?: number;
  /** Virtual nanoseconds added per tapped byte. @default 0 */
  readonly nsPerByte?: number;
}

export class VirtualClock {
  private readonly realStart = process.hrtime.bigint();
  private readonly timeScale: number;
  private readonly nsPerByte: number;
  private bytes = 0;
  private last: bigint;

  constructor(private readonly options: VirtualClockOptions) {
    this.timeScale = options.timeScale ?? 1;
    this.nsPerByte = options.nsPerByte ?? 0;
    this.last = options.startNs - MIN_TICK_NS;
  }

  /** Moves time on by `count` tapped bytes (see `nsPerByte`). */
  advanceBytes(count: number): void {
    this.bytes += count;
  }

  /** The current virtual time; strictly greater than the previous reading. */
  now(): bigint {
    const real = Number(process.hrtime.bigint() - this.realStart);
    const elapsed = BigInt(Math.round(real * this.timeScale + this.bytes * this.nsPerByte));
    const candidate = this.options.startNs + elapsed;
    this.last = candidate > this.last ? candidate : this.last + MIN_TICK_NS;
    return this.last;
  }
}

/** The UTC hour a time falls in, as a comparable number. */
export function hourOf(ns: bigint): bigint {
  return ns / NS_PER_HOUR;
}
