/** Thrown when more work waits than the queue allows. */
export class QueueFullError extends Error {}

/** How a `BoundedConcurrency` paces its tasks. */
export interface PacingOptions {
  /**
   * The share (0–1] of each slot's time its tasks may use: after a task that took t ms, its slot rests
   * t × (1 / share − 1) ms before the next task starts in it. 1 (the default): no rest.
   */
  share?: number;
  /** A monotonic clock in milliseconds (tests drive it). */
  clock?: () => number;
}

/**
 * Runs at most `limit` tasks at once, queueing up to `maxQueue` more. bcrypt compares run on libuv's
 * threadpool, shared with DNS lookups and file I/O: capping them keeps a flood of wrong passwords from
 * starving postback deliveries and everything else that needs a thread. With a `share` below 1, the
 * tasks also use at most that share of their slots' time, however many wait: a budget of CPU.
 */
export class BoundedConcurrency {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly share: number;
  private readonly clock: () => number;

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
    pacing: PacingOptions = {},
  ) {
    this.share = pacing.share ?? 1;
    if (!(this.share > 0 && this.share <= 1)) throw new RangeError('share must be in (0, 1]');
    this.clock = pacing.clock ?? (() => performance.now());
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new QueueFullError('too many password checks waiting');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    const started = this.clock();
    try {
      return await task();
    } finally {
      // The caller has its answer now; only the slot rests.
      const rest = this.share < 1 ? (this.clock() - started) * (1 / this.share - 1) : 0;
      if (rest > 0) setTimeout(() => this.release(), rest);
      else this.release();
    }
  }

  /** Hands the slot to the next waiting task, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
