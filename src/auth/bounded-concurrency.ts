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
  /**
   * Priority levels (default 1). A freed slot goes to the oldest waiting task of the most urgent level
   * (0 first), and each level has its own queue of `maxQueue`: a flood at one level can neither fill
   * another's queue nor be served ahead of a more urgent one.
   */
  levels?: number;
}

/**
 * Runs at most `limit` tasks at once, queueing up to `maxQueue` more. bcrypt compares run on libuv's
 * threadpool, shared with DNS lookups and file I/O: capping them keeps a flood of wrong passwords from
 * starving postback deliveries and everything else that needs a thread. With a `share` below 1, the
 * tasks also use at most that share of their slots' time, however many wait: a budget of CPU.
 */
export class BoundedConcurrency {
  private active = 0;
  /** Per priority level, the tasks waiting for a slot, oldest first. */
  private readonly waiting: Array<Array<() => void>>;
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
    this.waiting = Array.from({ length: pacing.levels ?? 1 }, () => []);
  }

  /** Runs `task` in a slot, at `priority` (0, the most urgent, by default; clamped to the levels there are). */
  async run<T>(task: () => Promise<T>, priority = 0): Promise<T> {
    if (this.active >= this.limit) {
      const queue = this.waiting[Math.min(Math.max(0, priority), this.waiting.length - 1)];
      if (queue.length >= this.maxQueue) throw new QueueFullError('too many password checks waiting');
      await new Promise<void>((resolve) => queue.push(resolve));
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

  /** Tasks in a slot now, and tasks waiting for one (every priority level). */
  load(): { running: number; waiting: number } {
    return { running: this.active, waiting: this.waiting.reduce((sum, queue) => sum + queue.length, 0) };
  }

  /** Hands the slot to the next waiting task of the most urgent level, or frees it. */
  private release(): void {
    const next = this.waiting.find((queue) => queue.length > 0)?.shift();
    if (next) next();
    else this.active--;
  }
}
