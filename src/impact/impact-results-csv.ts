import { csvField } from '../batch/results-csv';
import type { RowResult } from '../core/row-result';
import { isImpactCode, statusOf } from './result-codes';

/** The columns of an impact.com batch's results file, in order. */
export const IMPACT_RESULTS_CSV_COLUMNS = [
  'Line',
  'Status',
  'Code',
  'Message',
  'ActionId',
  'Oid',
  'ActionTrackerId',
  'Sku',
] as const;

// RFC 4180, as the Lead Poster results file.
const RECORD_END = '\r\n';

/** The header record of an impact results file, with its line ending. */
export function impactResultsCsvHeader(): string {
  return IMPACT_RESULTS_CSV_COLUMNS.join(',') + RECORD_END;
}

/**
 * One record of an impact results file, with its line ending: the row's number as Line, the Status of its
 * code (OK, Validation, Contract Error), the code, the message and the identifiers as the row gave them.
 * Every cell goes through {@link csvField}, so an identifier a spreadsheet would run as a formula is written
 * as text. A row stored without a code (none should be) says OK or nothing by whether it was applied.
 */
export function impactResultsCsvRecord(result: RowResult): string {
  const code = result.code ?? '';
  const status = isImpactCode(code) ? statusOf(code) : result.succeeded ? 'OK' : '';
  return (
    [
      String(result.rowNumber),
      status,
      code,
      result.message,
      result.actionId ?? '',
      result.oid ?? '',
      result.actionTrackerId ?? '',
      result.sku ?? '',
    ]
      .map(csvField)
      .join(',') + RECORD_END
  );
}
