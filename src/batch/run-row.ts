import { parseModificationParameters, type SuppliedValues } from '../linktrust/request-parser';
import { asciiLowerCase } from '../core/raw-parameter';
import { commandFor, type ModificationCommand } from '../modification/command';
import type { ModifyManyOptions, ModifyOptions } from '../modification/modification-service';
import { describeOutcome, isPassing, type Outcome } from '../modification/outcome';
import type { BatchRow } from '../store/batch-store';
import type { Sql } from '../store/sql';
import { EXTRA_FIELDS_PARAMETER } from './parse-file';
import { SUCCESS_MESSAGE } from './results-csv';
import type { RowResult } from '../core/row-result';

/** The core as a batch row needs it (ModificationService satisfies it). */
export interface RowModifier {
  modify(command: ModificationCommand, options?: ModifyOptions & { idempotency?: undefined }): Promise<Outcome>;
  /** Several rows in one unit of work (ModificationService); without it every row runs on its own. */
  modifyMany?(commands: ModificationCommand[], options: ModifyManyOptions): Promise<Outcome[] | null>;
}

/** What a row's protocol reads of its batch: its id, the client IP it runs as, the campaign it belongs to (if any). */
export interface BatchScope {
  id: number;
  clientIp: string | null;
  /** An intake's campaign: the batch may only touch this campaign's transactions. Null: any. */
  campaignId?: number | null;
  /** A merchant's batch: the merchant's campaigns as read for this pass; its rows touch only these. Null: any. */
  merchantCampaignIds?: readonly number[] | null;
  /** A merchant's batch: its rows' campaigns are checked again, under the row locks, to be the merchant's. */
  merchantId?: number | null;
}

/** Where a row comes from and how its success is recorded. */
export interface RowContext {
  batchId: number;
  clientIp: string;
  campaignId?: number | null;
  merchantCampaignIds?: readonly number[] | null;
  merchantId?: number | null;
  modifications: RowModifier;
  /** Writes the success inside the change's transaction; false when the row already has a result. */
  recordSuccess(sql: Sql, result: RowResult): Promise<boolean>;
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
export type RowOutcome =
  { kind: 'decided'; result: RowResult } | { kind: 'transient'; result: RowResult } | { kind: 'already_processed' };

/** A row read and parsed: refused already, or a command for the core with the results it may end in. */
export type PreparedRow = { kind: 'decided'; result: RowResult } | CommandRow;

/** A row the core is to apply: its command, and its result when applied (recorded inside the change's unit). */
export interface CommandRow {
  kind: 'command';
  command: ModificationCommand;
  success: (applied: Extract<Outcome, { kind: 'applied' }>) => RowResult;
  result: (succeeded: boolean, message: string) => RowResult;
}

/**
 * How a batch's rows are read and answered: Lead Poster files (LinkTrust's parameters and messages) or
 * impact.com's files (its columns and result codes). Both run through the same core and processor.
 */
export interface RowProtocol {
  /** The core with this protocol's rules. */
  modifications: RowModifier;
  /** Parses a stored row of `batch` (its id, the client IP it runs as, the campaign it belongs to). */
  prepare(row: BatchRow, batch: BatchScope): PreparedRow;
  /** What the core's outcome makes of a prepared row. */
  outcomeOf(prepared: CommandRow, outcome: Outcome): Exclude<RowOutcome, { kind: 'already_processed' }>;
  /** Rows naming the same transaction share a key, so they run in file order. */
  laneKey(row: BatchRow): string;
  /**
   * Whether a row refused for a passing reason waits however many passes it takes (impact: passing
   * trouble is never a row's result), rather than taking that refusal as its result after a few (Lead Poster).
   */
  waitsOutPassingTrouble: boolean;
}

/** Lead Poster files: rows are /transaction.edit requests. */
export function leadPosterRows(modifications: RowModifier): RowProtocol {
  return {
    modifications,
    prepare: (row, batch) =>
      scopedToMerchant(
        scopedToCampaign(prepareRow(row, batch.id, batch.clientIp ?? ''), batch.campaignId ?? null),
        batch.merchantCampaignIds ?? null,
        batch.merchantId ?? null,
      ),
    outcomeOf: rowOutcomeOf,
    laneKey: leadPosterLaneKey,
    waitsOutPassingTrouble: false,
  };
}

/**
 * A row of an intake's batch may touch only the intake's campaign: a row naming another campaign is
 * answered as /transaction.edit answers a transaction it cannot find, and a row naming none is looked up
 * within the intake's campaign (the core then finds another campaign's transaction no more).
 */
function scopedToCampaign(prepared: PreparedRow, campaignId: number | null): PreparedRow {
  if (campaignId === null || prepared.kind === 'decided') return prepared;
  const { identifier } = prepared.command;
  if (identifier.kind === 'action_id' || identifier.kind === 'order') return prepared;
  if (identifier.campaignId !== null && identifier.campaignId !== campaignId)
    return { kind: 'decided', result: prepared.result(false, messageOf({ kind: 'invalid_transaction' })) };
  return { ...prepared, command: { ...prepared.command, identifier: { ...identifier, campaignId } } };
}

/**
 * A row of a merchant's batch may touch only the merchant's campaigns: the core's lookup itself then finds
 * no other transaction, so another merchant's is answered exactly as a missing one.
 */
function scopedToMerchant(
  prepared: PreparedRow,
  campaignIds: readonly number[] | null,
  merchantId: number | null,
): PreparedRow {
  if (campaignIds === null || prepared.kind === 'decided') return prepared;
  const { identifier } = prepared.command;
  if (identifier.kind === 'action_id' || identifier.kind === 'order') return prepared;
  const command = { ...prepared.command, identifier: { ...identifier, campaignIds } };
  return { ...prepared, command: merchantId === null ? command : { ...command, merchantId } };
}

/** Parses a file row like /transaction.edit parses a request, for the client IP the batch runs as. */
export function prepareRow(row: BatchRow, batchId: number, clientIp: string): PreparedRow {
  const parsed = parseModificationParameters({ parameters: row.parameters, malformed: [] });
  const result = (succeeded: boolean, message: string): RowResult => ({
    rowNumber: row.rowNumber,
    succeeded,
    message,
    ...identifiers(parsed.supplied),
  });
  // A misaligned row cannot be trusted field by field: refused before any of its values is looked at.
  const extra = row.parameters.find((p) => p.name === EXTRA_FIELDS_PARAMETER);
  if (extra) return { kind: 'decided', result: result(false, extraFieldsMessage(extra.value)) };
  if (!parsed.ok) return { kind: 'decided', result: result(false, messageOf(parsed.outcome)) };
  const command = commandFor(parsed.request, {
    clientIp,
    requestId: rowRequestId(batchId, row.rowNumber),
    source: 'batch',
  });
  const success = result(true, SUCCESS_MESSAGE);
  return { kind: 'command', command, success: () => success, result };
}

/** What the core's outcome makes of a prepared row. */
export function rowOutcomeOf(
  prepared: CommandRow,
  outcome: Outcome,
): Exclude<RowOutcome, { kind: 'already_processed' }> {
  if (outcome.kind === 'applied') return { kind: 'decided', result: prepared.success(outcome) };
  const refused = prepared.result(false, messageOf(outcome));
  // Hourly processing is "temporary" too, but an hour away: that row is answered now, like the API would.
  return isPassing(outcome) ? { kind: 'transient', result: refused } : { kind: 'decided', result: refused };
}

/**
 * Runs one file row through the same parser and core as /transaction.edit, with the message
 * /transaction.edit would have given. A success is already recorded when this returns; a failure is for
 * the caller to record.
 */
export async function runRow(
  row: BatchRow,
  context: RowContext,
  protocol: RowProtocol = leadPosterRows(context.modifications),
): Promise<RowOutcome> {
  const prepared = protocol.prepare(row, {
    id: context.batchId,
    clientIp: context.clientIp,
    campaignId: context.campaignId ?? null,
    merchantCampaignIds: context.merchantCampaignIds ?? null,
    merchantId: context.merchantId ?? null,
  });
  if (prepared.kind === 'decided') return prepared;
  let outcome: Outcome;
  try {
    outcome = await protocol.modifications.modify(prepared.command, {
      afterApply: async (sql, applied) => {
        if (!(await context.recordSuccess(sql, prepared.success(applied))))
          throw new RowAlreadyProcessedError(row.rowNumber);
      },
    });
  } catch (error) {
    if (error instanceof RowAlreadyProcessedError) return { kind: 'already_processed' };
    context.onUnexpectedError(error, row.rowNumber);
    outcome = { kind: 'system_error' };
  }
  return protocol.outcomeOf(prepared, outcome);
}

/** The message /transaction.edit gives for an outcome (it has none for success: {@link SUCCESS_MESSAGE} then). */
export function messageOf(outcome: Outcome): string {
  return outcome.kind === 'applied' ? SUCCESS_MESSAGE : describeOutcome(outcome).message;
}

/**
 * Rows naming one transaction share a key (by id, click id, or campaign and merchant reference), so that
 * they run one after another in file order.
 */
export function leadPosterLaneKey(row: BatchRow): string {
  const value = (name: string) => row.parameters.find((p) => asciiLowerCase(p.name) === name)?.value ?? '';
  const transactionId = value('transactionid');
  if (transactionId) return `t:${transactionId.replace(/^0+(?=\d)/, '')}`;
  const clickId = value('clickid');
  if (clickId) return `c:${clickId}`;
  const reference = value('merchantreferenceid');
  if (reference) return `m:${value('cid').replace(/^0+(?=\d)/, '')}:${reference}`;
  return `row:${row.rowNumber}`;
}

function identifiers(
  supplied: SuppliedValues,
): Pick<RowResult, 'transactionId' | 'clickId' | 'merchantReferenceId' | 'cid'> {
  return {
    transactionId: supplied.transactionId,
    clickId: supplied.clickId,
    merchantReferenceId: supplied.merchantReferenceId,
    cid: supplied.cid,
  };
}
