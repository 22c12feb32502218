import type { Knex } from 'knex';
import { parseModificationParameters, type SuppliedValues } from '../linktrust/request-parser';
import type { ModificationCommand } from '../modification/command';
import type { ModifyOptions } from '../modification/modification-service';
import { describeOutcome, type Outcome } from '../modification/outcome';
import type { BatchRow } from '../store/batch-store';
import { EXTRA_FIELDS_PARAMETER } from './parse-file';
import { type RowResult, SUCCESS_MESSAGE } from './results-csv';

/** The core as a batch row needs it (ModificationService satisfies it). */
export interface RowModifier {
  modify(command: ModificationCommand, options?: ModifyOptions): Promise<Outcome>;
}

/** Where a row comes from and how its success is recorded. */
export interface RowContext {
  batchId: number;
  clientIp: string;
  modifications: RowModifier;
  /** Writes the success inside the change's transaction; false when the row already has a result. */
  recordSuccess(trx: Knex.Transaction, result: RowResult): Promise<boolean>;
  /** Told about a row the core threw on (a bug), which is answered like /transaction.edit: System level error. */
  onUnexpectedError(error: unknown, rowNumber: number): void;
}

/** A row that another worker finished first; its change was rolled back. */
export class RowAlreadyProcessedError extends Error {
  constructor(readonly rowNumber: number) {
    super(`batch row ${rowNumber} already has a result`);
  }
}

/** The message of a row with more fields than the header has columns (no LinkTrust message fits). */
export function extraFieldsMessage(surplus: string): string {
  const count = Number(surplus);
  return `Permanent failure: Row has ${count} more field${count === 1 ? '' : 's'} than the header has columns`;
}

/** The request id of a row's change in the history: the batch and the row. */
export function rowRequestId(batchId: number, rowNumber: number): string {
  return `batch-${batchId}-row-${rowNumber}`;
}

/**
 * What became of a row: decided (applied, or refused for good); refused for a reason that may pass
 * (database trouble, a busy server, nightly processing) — the caller may leave the row for a later
 * pass; or found finished by another worker, nothing applied.
 */
export type RowOutcome = { kind: 'decided'; result: RowResult } | { kind: 'transient'; result: RowResult } | { kind: 'already_processed' };

/**
 * Runs one file row through the same parser and core as /transaction.edit, with the message
 * /transaction.edit would have given. A success is already recorded when this returns; a failure is for
 * the caller to record.
 */
export async function runRow(row: BatchRow, context: RowContext): Promise<RowOutcome> {
  const parsed = parseModificationParameters({ parameters: row.parameters, malformed: [] });
  const result = (succeeded: boolean, message: string): RowResult => ({ rowNumber: row.rowNumber, succeeded, message, ...identifiers(parsed.supplied) });
  const decided = (succeeded: boolean, message: string): RowOutcome => ({ kind: 'decided', result: result(succeeded, message) });

  // A misaligned row cannot be trusted field by field: refused before any of its values is looked at.
  const extra = row.parameters.find((p) => p.name === EXTRA_FIELDS_PARAMETER);
  if (extra) return decided(false, extraFieldsMessage(extra.value));
  if (!parsed.ok) return decided(false, messageOf(parsed.outcome));

  const success = result(true, SUCCESS_MESSAGE);
  let outcome: Outcome;
  try {
    outcome = await context.modifications.modify(
      { ...parsed.request, clientIp: context.clientIp, requestId: rowRequestId(context.batchId, row.rowNumber), source: 'batch' },
      {
        afterApply: async (trx) => {
          if (!(await context.recordSuccess(trx, success))) throw new RowAlreadyProcessedError(row.rowNumber);
        },
      },
    );
  } catch (error) {
    if (error instanceof RowAlreadyProcessedError) return { kind: 'already_processed' };
    context.onUnexpectedError(error, row.rowNumber);
    outcome = { kind: 'system_error' };
  }
  if (outcome.kind === 'applied') return { kind: 'decided', result: success };
  // Hourly processing is "temporary" too, but an hour away: that row is answered now, like the API would.
  if (outcome.kind === 'temporary_failure' || outcome.kind === 'nightly_in_progress') return { kind: 'transient', result: result(false, messageOf(outcome)) };
  return decided(false, messageOf(outcome));
}

/** The message /transaction.edit gives for an outcome (it has none for success: {@link SUCCESS_MESSAGE} then). */
export function messageOf(outcome: Outcome): string {
  return outcome.kind === 'applied' ? SUCCESS_MESSAGE : describeOutcome(outcome).message;
}

function identifiers(supplied: SuppliedValues): Pick<RowResult, 'transactionId' | 'clickId' | 'merchantReferenceId' | 'cid'> {
  return { transactionId: supplied.transactionId, clickId: supplied.clickId, merchantReferenceId: supplied.merchantReferenceId, cid: supplied.cid };
}
