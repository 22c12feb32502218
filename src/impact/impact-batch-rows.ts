import type { RawParameter } from '../core/raw-parameter';
import type { RowResult } from '../core/row-result';
import type { BatchRow } from '../store/batch-store';
import type { BatchScope, CommandRow, PreparedRow, RowModifier, RowOutcome, RowProtocol } from '../batch/run-row';
import { rowRequestId } from '../batch/run-row';
import type { TransactionIdentifier } from '../modification/command';
import { isPassing, type Outcome } from '../modification/outcome';
import { parseImpactRow } from './impact-row';
import { impactMessage, isImpactCode, type ImpactCode } from './result-codes';

/** What impact.com rows need: the core with impact's rules, and the account's currency. */
export interface ImpactRowsDeps {
  modifications: RowModifier;
  accountCurrency: string;
}

/**
 * impact.com files' rows: read by impact's parser (rule 1, MALFORMED), applied by the core with impact's
 * rules, answered with impact's codes. Passing trouble — database, nightly processing, an hour not rolled
 * up yet — is never a row's result: the row waits, however many passes it takes.
 */
export function impactRows(deps: ImpactRowsDeps): RowProtocol {
  return {
    modifications: deps.modifications,
    prepare: (row, batch) => prepareImpactRow(row, batch, deps.accountCurrency),
    outcomeOf: impactOutcomeOf,
    laneKey: impactLaneKey,
    waitsOutPassingTrouble: true,
  };
}

/** The identifiers of a row as supplied, for its result (null when not supplied). */
function suppliedIdentifiers(parameters: RawParameter[]) {
  const value = (name: string) => {
    const found = parameters.find((p) => p.name === name)?.value.trim();
    return found ? found : null;
  };
  // An item-level row names its first item's SKU in the results (impact.com's results name one Sku per line).
  return {
    actionId: value('ActionId'),
    oid: value('Oid'),
    actionTrackerId: value('ActionTrackerId'),
    sku: value('Sku') ?? value('Sku1'),
  };
}

function prepareImpactRow(row: BatchRow, batch: BatchScope, accountCurrency: string): PreparedRow {
  const campaignIds =
    batch.campaignId !== null && batch.campaignId !== undefined
      ? [batch.campaignId]
      : batch.merchantCampaignIds
        ? [...batch.merchantCampaignIds]
        : null;
  return prepareImpactChange(
    row,
    {
      campaignIds,
      merchantId: batch.merchantId ?? null,
      clientIp: batch.clientIp ?? '',
      requestId: rowRequestId(batch.id, row.rowNumber),
    },
    accountCurrency,
  );
}

/** Where an impact change comes from: the campaigns it may touch (null: any), its client and its request id. */
export interface ImpactChangeScope {
  campaignIds: number[] | null;
  /** A merchant's change: its action's campaign is checked again, under the row lock, to be the merchant's. */
  merchantId?: number | null;
  clientIp: string;
  requestId: string;
}

/**
 * Reads an impact change (a file's row, or an API submission under the file's column names) into a
 * command for the core with its results, or its MALFORMED refusal. Another campaign's action is not found.
 */
export function prepareImpactChange(row: BatchRow, scope: ImpactChangeScope, accountCurrency: string): PreparedRow {
  const supplied = suppliedIdentifiers(row.parameters);
  const result = (succeeded: boolean, code: ImpactCode, message: string): RowResult => ({
    rowNumber: row.rowNumber,
    succeeded,
    message,
    transactionId: '',
    clickId: '',
    merchantReferenceId: supplied.oid ?? '',
    cid: '',
    code,
    ...supplied,
  });
  const parsed = parseImpactRow(row.parameters, accountCurrency);
  if (!parsed.ok) return { kind: 'decided', result: result(false, 'MALFORMED', parsed.message) };
  const change = parsed.row;
  const { campaignIds } = scope;
  const identifier: TransactionIdentifier =
    change.actionId !== null
      ? { kind: 'action_id', actionId: change.actionId, campaignIds }
      : { kind: 'order', merchantReferenceId: change.oid!, eventTypeId: change.actionTrackerId!, campaignIds };
  const command: CommandRow['command'] = {
    identifier,
    changes: {},
    password: null,
    reason: change.reason,
    executeAffiliatePixel: true,
    action: change,
    clientIp: scope.clientIp,
    requestId: scope.requestId,
    source: 'impact',
    ...(scope.merchantId != null ? { merchantId: scope.merchantId } : {}),
  };
  const prepared: ImpactCommandRow = {
    kind: 'command',
    command,
    success: (applied) => {
      const code = applied.result !== undefined && isImpactCode(applied.result) ? applied.result : 'MODIFIED';
      return result(true, code, impactMessage(code));
    },
    result: (succeeded, message) => result(succeeded, 'MALFORMED', message),
    refused: (code, message) => result(false, code, message),
  };
  return prepared;
}

/** What the core's outcome makes of an impact row: its code, or a wait for passing trouble. */
export function impactOutcomeOf(
  prepared: CommandRow,
  outcome: Outcome,
): Exclude<RowOutcome, { kind: 'already_processed' }> {
  const refused = (prepared as ImpactCommandRow).refused;
  if (outcome.kind === 'applied') return { kind: 'decided', result: prepared.success(outcome) };
  if (outcome.kind === 'refused' && isImpactCode(outcome.code))
    return { kind: 'decided', result: refused(outcome.code, outcome.message) };
  if (outcome.kind === 'invalid_transaction')
    return { kind: 'decided', result: refused('ACTION_NOT_FOUND', impactMessage('ACTION_NOT_FOUND')) };
  // Passing trouble (and a bug, which is logged): the row waits for a later pass, never this as its result.
  const waiting = refused('MALFORMED', isPassing(outcome) ? 'waiting' : 'waiting after an unexpected error');
  return { kind: 'transient', result: waiting };
}

type ImpactCommandRow = CommandRow & { refused: (code: ImpactCode, message: string) => RowResult };

/** Rows naming one action (by ActionId, or by Oid on an ActionTrackerId) run in file order. */
function impactLaneKey(row: BatchRow): string {
  const { actionId, oid, actionTrackerId } = suppliedIdentifiers(row.parameters);
  if (actionId) return `a:${actionId}`;
  if (oid) return `o:${actionTrackerId ?? ''}:${oid}`;
  return `row:${row.rowNumber}`;
}
