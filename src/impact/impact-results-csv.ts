import { parse } from 'csv-parse/sync';
import { csvField, csvValue, resultsCsvHeader, resultsCsvRecord } from '../batch/results-csv';
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

/**
 * The results file's header and record writers for a batch of `kind`: impact.com's columns for an impact
 * batch, LinkTrust's for a Lead Poster one. Every front door serving results (the API, the console) asks here.
 */
export function resultsCsvFor(kind: 'lead-poster' | 'impact'): {
  header: () => string;
  record: (result: RowResult) => string;
} {
  return kind === 'impact'
    ? { header: impactResultsCsvHeader, record: impactResultsCsvRecord }
    : { header: resultsCsvHeader, record: resultsCsvRecord };
}

/** One record of an impact results file as a client reads it back. */
export interface ImpactResultRecord {
  line: number;
  status: string;
  code: string;
  message: string;
  actionId: string;
  oid: string;
  actionTrackerId: string;
  sku: string;
}

/** True when the text starts with an impact results file's header. */
export function isImpactResultsCsv(text: string): boolean {
  return text.replace(/^\ufeff/, '').startsWith(impactResultsCsvHeader());
}

/** Reads an impact results file back (formula escapes undone); throws when the header is not impact's. */
export function parseImpactResultsCsv(text: string): ImpactResultRecord[] {
  if (!isImpactResultsCsv(text)) throw new Error('not an impact.com results file');
  const [, ...rows]: string[][] = parse(text.replace(/^\ufeff/, ''), {
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
  });
  return rows
    .filter((fields) => fields.length > 1 || fields[0] !== '')
    .map((fields) => {
      const [line, status, code, message, actionId, oid, actionTrackerId, sku] = fields.map(csvValue);
      return {
        line: Number(line),
        status: status ?? '',
        code: code ?? '',
        message: message ?? '',
        actionId: actionId ?? '',
        oid: oid ?? '',
        actionTrackerId: actionTrackerId ?? '',
        sku: sku ?? '',
      };
    });
}
