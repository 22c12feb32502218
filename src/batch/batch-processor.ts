import type { Logger } from '../logger';
import type { Batch, BatchRow, BatchStore } from '../store/batch-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import type { RowResult } from '../core/row-result';
import type { Outcome } from '../modification/outcome';
import { forEachConcurrently } from '../workers/for-each-concurrently';
import {
  type CommandRow,
  leadPosterLaneKey,
  leadPosterRows,
  RowAlreadyProcessedError,
  type RowModifier,
  type RowProtocol,
  runRow,
} from './run-row';

/** Tuning of batch processing. */
export interface BatchProcessorOptions {
  /** Rows read, run and counted together; a stopped worker finishes the rows it started. */
  chunkSize: number;
  /** Rows of a chunk run at once (each its own database transaction in the core). */
  concurrency: number;
  /** How long a worker holds a batch without renewing its lease; renewed every third of it. */
  leaseMs: number;
  /** Told after each row is decided (progress, tests); a failure is recorded at the end of its chunk. */
  onRowProcessed?: (batchId: number, result: RowResult) => void;
  /**
   * Passes a row refused for a passing reason (database trouble, busy server, nightly processing) is left
   * waiting for, before that refusal becomes its result. Counted per process.
   */
  maxDeferrals?: number;
}

/** What the processor asks of the batch store (an in-memory fake in unit tests). */
export type BatchProcessorStore = Pick<
  BatchStore,
  | 'renewLease'
  | 'syncCounts'
  | 'waitingRows'
  | 'complete'
  | 'addCounts'
  | 'recordSuccess'
  | 'recordSuccesses'
  | 'recordFailures'
>;

/** What the processor needs. */
export interface BatchProcessorDeps {
  store: BatchProcessorStore;
  /** The core with LinkTrust's rules: Lead Poster files. */
  modifications: RowModifier;
  /** impact.com files' rows (the core with impact's rules); without it an impact batch's rows are not run. */
  impactRows?: RowProtocol;
  processingState: Pick<ProcessingStateStore, 'read'>;
  /** The campaigns a merchant owns now (a merchant's batch is scoped to them at each pass); without it: none. */
  merchantCampaigns?: (merchantId: number) => Promise<number[]>;
  logger: Logger;
  now: () => number;
}

/** A batch as a pass runs it: with its merchant's campaigns as read at the pass's start. */
type ScopedBatch = Batch & { merchantCampaignIds: readonly number[] | null };

/**
 * How a pass over a batch ended: done; told to stop; waiting for nightly processing; rows left for a
 * later pass after a passing refusal; taken over by another worker.
 */
export type BatchPassEnd = 'completed' | 'stopped' | 'paused' | 'deferred' | 'lease_lost';

/**
 * Works through one leased batch: the waiting rows in file order, a chunk at a time, each row through
 * the core with bounded concurrency, counts after each chunk, the batch completed at the end. Rows
 * already decided (an earlier pass, another worker) are never run again: the pass starts at the first
 * row without a result.
 */
export class BatchProcessor {
  /** Deferrals so far per `batch:row`. */
  private readonly deferrals = new Map<string, number>();

  constructor(
    private readonly deps: BatchProcessorDeps,
    private readonly options: BatchProcessorOptions,
  ) {}

  /** One pass; `keepGoing` turning false stops it between rows. Throws on database trouble. */
  async run(leased: Batch, owner: string, keepGoing: () => boolean): Promise<BatchPassEnd> {
    const { store, now, logger } = this.deps;
    const batch = await this.scoped(leased);
    let leaseLost = false;
    const heartbeat = setInterval(
      () => {
        store.renewLease(batch.id, owner, now(), this.options.leaseMs).then(
          (kept) => (leaseLost ||= !kept),
          (error) => logger.warn({ err: error, batchId: batch.id }, 'batch lease renewal failed'),
        );
      },
      Math.max(1, Math.floor(this.options.leaseMs / 3)),
    );
    heartbeat.unref();
    const going = () => keepGoing() && !leaseLost;
    try {
      // Another worker may have stopped mid-chunk: counts come from the rows, not from what it last wrote.
      await store.syncCounts(batch.id, owner);
      let afterRow = 0;
      for (;;) {
        if (!going()) return leaseLost ? 'lease_lost' : 'stopped';
        // Rows would only collect "Nightly processing in progress": wait for it to end instead.
        if ((await this.deps.processingState.read()).nightlyInProgress) return 'paused';
        const rows = await store.waitingRows(batch.id, afterRow, this.options.chunkSize);
        if (rows.length === 0) {
          const end = await store.complete(batch.id, owner, now());
          if (end === 'completed') return 'completed';
          if (end === 'not_owner') return 'lease_lost';
          afterRow = 0; // a row behind the cursor is still waiting: go round again
          continue;
        }
        afterRow = rows[rows.length - 1].rowNumber;
        const { deferred, ...counts } = await this.runChunk(batch, rows, going);
        if (!(await store.addCounts(batch.id, owner, counts))) return 'lease_lost';
        // Database trouble or a busy server: give it time rather than answer every remaining row with it.
        if (deferred > 0) return 'deferred';
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** A merchant's batch with the merchant's campaigns as they are now: read per pass, so later ones count. */
  private async scoped(batch: Batch): Promise<ScopedBatch> {
    // A batch built by hand (a test's fake store) may lack the field: no merchant then.
    if (batch.merchantId === null || batch.merchantId === undefined) return { ...batch, merchantCampaignIds: null };
    const owned = this.deps.merchantCampaigns ? await this.deps.merchantCampaigns(batch.merchantId) : [];
    return { ...batch, merchantCampaignIds: owned };
  }

  private async runChunk(batch: ScopedBatch, rows: BatchRow[], going: () => boolean) {
    const protocol = this.protocolOf(batch);
    return (
      (await this.runChunkAtOnce(batch, rows, protocol)) ?? (await this.runChunkRowByRow(batch, rows, going, protocol))
    );
  }

  private protocolOf(batch: Batch): RowProtocol {
    if (batch.kind !== 'impact') return leadPosterRows(this.deps.modifications);
    if (!this.deps.impactRows) throw new Error('an impact.com batch needs the impact rows protocol');
    return this.deps.impactRows;
  }

  /**
   * The chunk's rows in one unit of work of the core (one round trip and one COMMIT for many rows, which
   * is what makes a large file fast): the same checks and messages as
   * row by row, with the row results written in that unit of work. Null when the chunk must go row by
   * row instead — a passing refusal (deferrals are counted per row), or a row another worker finished —
   * and then nothing of it was written.
   */
  private async runChunkAtOnce(batch: ScopedBatch, rows: BatchRow[], protocol: RowProtocol) {
    const { store } = this.deps;
    const { modifications } = protocol;
    if (!modifications.modifyMany || rows.length < 2) return null;
    const prepared = rows.map((row) => protocol.prepare(row, batch));
    const commands = prepared.filter((row): row is CommandRow => row.kind === 'command');
    let outcomes: Outcome[] | null;
    try {
      outcomes = await modifications.modifyMany(
        commands.map((row) => row.command),
        {
          concurrency: this.options.concurrency,
          afterApply: async (sql, applied, outcomes) => {
            if (
              !(await store.recordSuccesses(
                sql,
                batch.id,
                applied.map((index, i) => commands[index].success(outcomes[i])),
              ))
            )
              throw new RowAlreadyProcessedError(0);
          },
        },
      );
    } catch (error) {
      // A finished row or an unexpected error: row by row sorts out (and logs) which row it was.
      if (!(error instanceof RowAlreadyProcessedError))
        this.deps.logger.warn({ err: error, batchId: batch.id }, 'batch chunk failed; running its rows one by one');
      return null;
    }
    if (!outcomes) return null;
    let next = 0;
    const decided = prepared.map((row) => (row.kind === 'decided' ? row : protocol.outcomeOf(row, outcomes[next++])));
    // A refusal the protocol counts as passing (impact: the hour's roll-up) goes row by row, where it waits.
    // Nothing of the chunk was applied then: modifyMany applies only when no outcome is passing for the core,
    // and such a refusal writes nothing.
    if (decided.some((row) => row.kind === 'transient')) return null;
    const results = decided.map((row) => row.result);
    const failures = results.filter((result) => !result.succeeded);
    await store.recordFailures(batch.id, failures);
    for (const result of results) {
      this.deferrals.delete(`${batch.id}:${result.rowNumber}`);
      this.options.onRowProcessed?.(batch.id, result);
    }
    return {
      processed: results.length,
      succeeded: results.length - failures.length,
      failed: failures.length,
      deferred: 0,
    };
  }

  private async runChunkRowByRow(batch: ScopedBatch, rows: BatchRow[], going: () => boolean, protocol: RowProtocol) {
    const { store, logger } = this.deps;
    const failures: RowResult[] = [];
    let succeeded = 0;
    const context = {
      batchId: batch.id,
      clientIp: batch.clientIp ?? '',
      campaignId: batch.campaignId,
      merchantCampaignIds: batch.merchantCampaignIds,
      merchantId: batch.merchantId ?? null,
      modifications: this.deps.modifications,
      recordSuccess: (trx: Parameters<BatchStore['recordSuccess']>[0], result: RowResult) =>
        store.recordSuccess(trx, batch.id, result),
      onUnexpectedError: (error: unknown, rowNumber: number) =>
        logger.error({ err: error, batchId: batch.id, rowNumber }, 'batch row failed unexpectedly'),
    };
    let deferred = 0;
    let stopLanes = false;
    const maxDeferrals = this.options.maxDeferrals ?? 3;
    await runLanes(
      lanesOf(rows, protocol.laneKey),
      this.options.concurrency,
      () => going() && !stopLanes,
      async (row) => {
        const outcome = await runRow(row, context, protocol);
        if (outcome.kind === 'already_processed') return;
        const key = `${batch.id}:${row.rowNumber}`;
        if (outcome.kind === 'transient') {
          const times = (this.deferrals.get(key) ?? 0) + 1;
          if (times <= maxDeferrals || protocol.waitsOutPassingTrouble) {
            this.deferrals.set(key, times);
            deferred++;
            // Later rows of its lane must not overtake it, and the other lanes would likely meet the same trouble.
            stopLanes = true;
            return;
          }
        }
        this.deferrals.delete(key);
        const { result } = outcome;
        if (result.succeeded) succeeded++;
        else failures.push(result);
        this.options.onRowProcessed?.(batch.id, result);
      },
    );
    await store.recordFailures(batch.id, failures);
    return { processed: succeeded + failures.length, succeeded, failed: failures.length, deferred };
  }
}

/**
 * Groups a chunk's rows by the transaction they name, keeping file order inside each group: rows of one
 * group run one after another, so the file's last word on a transaction is the one that stays. (A file
 * naming one transaction by two kinds of identifier, e.g. its id and its click id, is not grouped.)
 */
export function lanesOf(rows: BatchRow[], laneKey: (row: BatchRow) => string = leadPosterLaneKey): BatchRow[][] {
  const lanes = new Map<string, BatchRow[]>();
  for (const row of rows) {
    const key = laneKey(row);
    const lane = lanes.get(key);
    if (lane) lane.push(row);
    else lanes.set(key, [row]);
  }
  return [...lanes.values()];
}

/** Runs the lanes with at most `concurrency` at once, each lane's items in order, until `going()` says stop. */
async function runLanes<T>(
  lanes: T[][],
  concurrency: number,
  going: () => boolean,
  work: (item: T) => Promise<void>,
): Promise<void> {
  await forEachConcurrently(lanes, concurrency, async (lane) => {
    for (const item of lane) {
      if (!going()) return;
      await work(item);
    }
  });
}
