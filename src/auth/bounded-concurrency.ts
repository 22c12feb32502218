/** Thrown when more work waits than the queue allows. */
export class QueueFullError extends Error {}

/**
 * Runs at most `limit` tasks at once, queueing up to `maxQueue` more. bcrypt compares run on libuv's
 * threadpool, shared with DNS lookups and file I/O: capping them keeps a flood of wrong passwords from
 * starving postback deliveries and everything else that needs a thread.
 */
export class BoundedConcurrency {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new QueueFullError('too many password checks waiting');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
