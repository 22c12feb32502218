/**
 * Smart batching, without a timer: an item submitted while fewer than `maxInFlight` batches run starts
 * one at once (a lone request waits for nothing); otherwise it queues, and the next batch to start — as
 * soon as a running one ends — takes every queued item, up to `maxBatch`, in arrival order. A busy server
 * thus runs many items per batch, an idle one one. `run` answers one result per item, in order; a
 * rejection of `run` rejects every item of that batch.
 */
export class SmartBatcher<T, R> {
  private readonly queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;
  private startScheduled = false;
  /** Items and batches run so far (the bench reports changes per unit of work). */
  private counted = { items: 0, batches: 0 };

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: {
      maxBatch: number;
      maxInFlight: number;
      /**
       * Start a batch on the event loop's next turn (`setImmediate`), not at once: for a runner that
       * finishes without giving the loop a turn (SQLite's synchronous driver), where nothing else could
       * arrive while a batch runs. Requests read in the same turn then share the batch; a lone one waits
       * one turn of the loop, no timer.
       */
      startOnNextTurn?: boolean;
    },
  ) {
    if (options.maxBatch < 1 || options.maxInFlight < 1) throw new Error('SmartBatcher needs bounds of at least 1');
  }

  /** The item's result once the batch that took it has run. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.options.startOnNextTurn) this.startWhileFree();
      else if (!this.startScheduled) {
        this.startScheduled = true;
        setImmediate(() => {
          this.startScheduled = false;
          this.startWhileFree();
        });
      }
    });
  }

  /** Items per batch so far, for the bench and metrics. */
  stats(): { items: number; batches: number } {
    return { ...this.counted };
  }

  private startWhileFree(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const taken = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.counted.items += taken.length;
      this.counted.batches++;
      void this.runBatch(taken);
    }
  }

  private async runBatch(taken: typeof this.queue): Promise<void> {
    try {
      const results = await this.run(taken.map((entry) => entry.item));
      if (results.length !== taken.length) throw new Error(`a batch of ${taken.length} answered ${results.length}`);
      taken.forEach((entry, index) => entry.resolve(results[index]));
    } catch (error) {
      for (const entry of taken) entry.reject(error);
    } finally {
      this.inFlight--;
      this.startWhileFree();
    }
  }
}
