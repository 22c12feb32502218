import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../logger';
import type { Engine } from '../store/database';
import type { Batch, BatchStore } from '../store/batch-store';
import { isTransientDatabaseError } from '../store/database-errors';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { PollLoop } from '../workers/poll-loop';
import { BatchPassEnd, BatchProcessor, type BatchProcessorOptions } from './batch-processor';
import type { RowModifier, RowProtocol } from './run-row';

/** Settings of a batch worker; every field has a default. */
export interface BatchWorkerOptions extends Partial<BatchProcessorOptions> {
  /** How often to look for batches when nothing wakes the worker. */
  pollMs?: number;
  now?: () => number;
}

/** What a worker needs. */
export interface BatchWorkerDeps {
  store: BatchStore;
  modifications: RowModifier;
  /** impact.com files' rows (the core with impact's rules). */
  impactRows?: RowProtocol;
  processingState: Pick<ProcessingStateStore, 'read'>;
  /** The campaigns a merchant owns now (a merchant's batch is scoped to them at each pass). */
  merchantCampaigns?: (merchantId: number) => Promise<number[]>;
  logger: Logger;
}

export const DEFAULT_BATCH_OPTIONS: BatchProcessorOptions & { pollMs: number } = {
  chunkSize: 500,
  concurrency: 8,
  leaseMs: 60_000,
  pollMs: 1000,
};

/**
 * Defaults for an engine. MySQL/MariaDB: eight rows at once keep group commit busy while leaving most
 * of the pool (DATABASE_POOL_MAX, 20) to /transaction.edit. SQLite has one connection and does the
 * work on this process's CPU, so more rows at once only queue longer ahead of /transaction.edit's queries.
 */
export function batchOptionsFor(engine: Engine): BatchWorkerOptions {
  return { concurrency: engine === 'sqlite' ? 2 : DEFAULT_BATCH_OPTIONS.concurrency };
}

/**
 * Processes uploaded batches in the background, one batch at a time per worker: claims the oldest
 * queued or unfinished batch under a lease, works through it, and looks for the next. Several workers
 * (processes, nodes) may run against one database; a batch left by a stopped or dead worker is resumed
 * by whichever worker claims it next, at its first row without a result.
 */
export class BatchWorker {
  readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private readonly processor: BatchProcessor;
  private readonly options: BatchProcessorOptions & { pollMs: number };
  private readonly now: () => number;
  private readonly loop: PollLoop;

  constructor(
    private readonly deps: BatchWorkerDeps,
    options: BatchWorkerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.options = { ...DEFAULT_BATCH_OPTIONS, ...definedOnly(options) };
    this.processor = new BatchProcessor({ ...deps, now: this.now }, this.options);
    this.loop = new PollLoop(
      () => this.poll(),
      this.options.pollMs,
      (error) => deps.logger.error({ err: error }, 'batch worker round failed'),
    );
  }

  /** Starts looking for batches. */
  start(): void {
    this.loop.start();
  }

  /** Looks for batches now (called after an upload queued one). */
  wake(): void {
    this.loop.wake();
  }

  /**
   * Stops: rows already started finish and are recorded, the batch is handed back unfinished (any
   * worker resumes it at once), and the promise resolves when nothing is running.
   */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Claims one batch and processes it until done or stopped; the batch as it then is, or null when none was waiting. */
  async runOnce(): Promise<Batch | null> {
    const batch = await this.deps.store.claimNext(this.id, this.now(), this.options.leaseMs);
    if (!batch) return null;
    await this.work(batch, () => true);
    return this.deps.store.get(batch.id);
  }

  /** Claims one batch and works through it; the delay before the next round. */
  private async poll(): Promise<number> {
    try {
      const batch = await this.deps.store.claimNext(this.id, this.now(), this.options.leaseMs);
      // After a finished batch look again at once; after a pause or trouble, wait a poll interval.
      if (batch) return (await this.work(batch, () => this.loop.isRunning)) === 'completed' ? 0 : this.options.pollMs;
    } catch (error) {
      this.deps.logger.error({ err: error }, 'batch worker could not claim a batch');
    }
    return this.options.pollMs;
  }

  private async work(batch: Batch, keepGoing: () => boolean): Promise<BatchPassEnd | 'failed' | 'interrupted'> {
    const { store, logger } = this.deps;
    try {
      const end = await this.processor.run(batch, this.id, keepGoing);
      if (end === 'stopped' || end === 'paused' || end === 'deferred') await store.releaseLease(batch.id, this.id);
      if (end === 'completed') logger.info({ batchId: batch.id }, 'batch completed');
      return end;
    } catch (error) {
      if (isTransientDatabaseError(error)) {
        // The database is in trouble, not the batch: hand it back; it resumes where it stopped.
        logger.warn({ err: error, batchId: batch.id }, 'batch interrupted by a database error; will resume');
        await store.releaseLease(batch.id, this.id).catch(() => undefined);
        return 'interrupted';
      }
      // Anything else would fail the same way on every attempt: give the batch up with the reason.
      logger.error({ err: error, batchId: batch.id }, 'batch failed');
      await store.fail(
        batch.id,
        `processing failed: ${error instanceof Error ? error.message : String(error)}`,
        this.now(),
      );
      return 'failed';
    }
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
