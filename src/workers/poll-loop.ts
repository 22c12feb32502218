/**
 * The start / wake / stop loop the background workers share (postback outbox, batches). One round runs
 * at a time; a round answers how long to wait before the next; `wake()` during a round asks for
 * another at once. Timers are unref'd, so the loop never keeps the process alive on its own.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private current: Promise<void> | null = null;
  private wakeRequested = false;

  constructor(
    /** One round of work; resolves to the delay (ms) before the next round. */
    private readonly round: () => Promise<number>,
    /** Delay after a round that threw (the round should catch its own trouble; this is a safety net). */
    private readonly idleMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts with a round at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Runs a round now, or right after the one in progress. */
  wake(): void {
    if (!this.running) return;
    if (this.current) this.wakeRequested = true;
    else this.schedule(0);
  }

  /** Stops scheduling and resolves when the round in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running && !this.current) this.current = this.tick().finally(() => (this.current = null));
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let next = this.idleMs;
    try {
      next = await this.round();
    } catch (error) {
      this.onError(error);
    }
    if (this.wakeRequested) next = 0;
    this.wakeRequested = false;
    // Scheduled once this round's promise has settled, so the timer never finds it still running.
    setImmediate(() => this.schedule(next));
  }
}
