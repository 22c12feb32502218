import type { BatchProcessorStore } from '../../../src/batch/batch-processor';
import type { RowResult } from '../../../src/core/row-result';
import type { RawParameter } from '../../../src/core/raw-parameter';
import type { BatchCounts, BatchRow } from '../../../src/store/batch-store';
import type { Sql } from '../../../src/store/sql';

/**
 * One batch's rows and counts in memory, behind the interface `BatchProcessor` reads and writes through
 * (`BatchStore`'s on a database): a row's result is written once, like the store's `succeeded is null`
 * guard; the lease is always held unless `leaseLost` says otherwise.
 */
export class FakeBatchStore implements BatchProcessorStore {
  readonly rows = new Map<number, { parameters: RawParameter[]; result: RowResult | null }>();
  readonly counts: BatchCounts = { processed: 0, succeeded: 0, failed: 0 };
  completed = false;
  leaseLost = false;

  /** A file's rows under its header: each row's fields by column name (the Password among them). */
  constructor(rows: Array<Record<string, string>>) {
    rows.forEach((fields, i) => {
      this.rows.set(i + 1, {
        parameters: Object.entries(fields).map(([name, value]) => ({ name, value })),
        result: null,
      });
    });
  }

  /** The recorded results in file order (null for a row still waiting). */
  results(): Array<RowResult | null> {
    return [...this.rows.values()].map((row) => row.result);
  }

  async renewLease(): Promise<boolean> {
    return !this.leaseLost;
  }

  async syncCounts(): Promise<BatchCounts & { waiting: number }> {
    const results = this.results();
    this.counts.succeeded = results.filter((result) => result?.succeeded === true).length;
    this.counts.failed = results.filter((result) => result?.succeeded === false).length;
    this.counts.processed = this.counts.succeeded + this.counts.failed;
    return { ...this.counts, waiting: results.filter((result) => result === null).length };
  }

  async addCounts(_id: number, _owner: string, delta: BatchCounts): Promise<boolean> {
    if (this.leaseLost) return false;
    this.counts.processed += delta.processed;
    this.counts.succeeded += delta.succeeded;
    this.counts.failed += delta.failed;
    return true;
  }

  async waitingRows(_id: number, afterRow: number, limit: number): Promise<BatchRow[]> {
    return [...this.rows.entries()]
      .filter(([rowNumber, row]) => rowNumber > afterRow && row.result === null)
      .slice(0, limit)
      .map(([rowNumber, row]) => ({ rowNumber, parameters: row.parameters.map((p) => ({ ...p })) }));
  }

  async complete(): Promise<'completed' | 'rows_waiting' | 'not_owner'> {
    if (this.leaseLost) return 'not_owner';
    if (this.results().includes(null)) return 'rows_waiting';
    await this.syncCounts();
    this.completed = true;
    return 'completed';
  }

  async recordSuccess(_sql: Sql, _batchId: number, result: RowResult): Promise<boolean> {
    return this.record([result]) === 1;
  }

  async recordSuccesses(_sql: Sql, _batchId: number, results: RowResult[]): Promise<boolean> {
    return this.record(results) === results.length;
  }

  async recordFailures(_batchId: number, results: RowResult[]): Promise<void> {
    this.record(results);
  }

  private record(results: RowResult[]): number {
    let recorded = 0;
    for (const result of results) {
      const row = this.rows.get(result.rowNumber);
      if (!row || row.result !== null) continue;
      row.result = result;
      recorded++;
    }
    return recorded;
  }
}
