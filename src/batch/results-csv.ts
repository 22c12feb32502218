import { parse } from 'csv-parse/sync';
import type { RowResult } from '../core/row-result';

/** The message of a row that was applied (LinkTrust answers `<Succeeded>True</Succeeded>` with no message). */
export const SUCCESS_MESSAGE = 'Succeeded';

/** The columns of a results file, in order; the server's results CSV and the `txedit post` client share them. */
export const RESULTS_CSV_COLUMNS = [
  'Row',
  'Succeeded',
  'Message',
  'TransactionId',
  'ClickId',
  'MerchantReferenceId',
  'CID',
] as const;

// RFC 4180: CRLF between records; Excel opens it and every CSV reader accepts it.
const RECORD_END = '\r\n';
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/*
 * A first character that makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection": = + - @,
 * tab, carriage return), or the apostrophe that marks an escaped cell, so that escaping can be undone
 * exactly (a value that began with one gets one more).
 */
const FORMULA_START = /^[=+\-@\t\r']/;
const ESCAPED = /^'[=+\-@\t\r']/;

/**
 * One CSV field: quoted when it holds a comma, quote, line break or edge whitespace; quotes doubled. A
 * value a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`, `-2+3`) is written
 * as text, as OWASP recommends: an apostrophe in front, and quoted. Every cell the project writes goes
 * through here; its own values (row numbers, True/False, messages) never start with such a character,
 * so only values echoed from a file change. {@link csvValue} gives the value back.
 */
export function csvField(value: string): string {
  if (FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The value behind a field {@link csvField} wrote (after the CSV reader's unquoting): the escape removed. */
export function csvValue(field: string): string {
  return ESCAPED.test(field) ? field.slice(1) : field;
}

/** The header record of a results file, with its line ending. */
export function resultsCsvHeader(): string {
  return RESULTS_CSV_COLUMNS.join(',') + RECORD_END;
}

/** One record of a results file, with its line ending. `Succeeded` is `True` or `False`, as in LinkTrust's XML. */
export function resultsCsvRecord(result: RowResult): string {
  return (
    [
      String(result.rowNumber),
      result.succeeded ? 'True' : 'False',
      result.message,
      result.transactionId,
      result.clickId,
      result.merchantReferenceId,
      result.cid,
    ]
      .map(csvField)
      .join(',') + RECORD_END
  );
}

/** A whole results file (header and records) as one string; for small result sets and clients. */
export function formatResultsCsv(results: Iterable<RowResult>): string {
  let text = resultsCsvHeader();
  for (const result of results) text += resultsCsvRecord(result);
  return text;
}

/**
 * Reads a results file written by {@link formatResultsCsv} (or the results route) back into results, so a
 * client can tell which rows are done. Throws when the header is not the results header.
 */
export function parseResultsCsv(text: string): RowResult[] {
  const records: string[][] = parse(text.startsWith('\ufeff') ? text.slice(1) : text, {
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
  });
  const [header, ...rows] = records;
  if (!header || header.join(',') !== RESULTS_CSV_COLUMNS.join(','))
    throw new Error(`not a results file: header is ${JSON.stringify(header ?? [])}`);
  return rows
    .filter((fields) => fields.length > 1 || fields[0] !== '')
    .map((fields) => ({
      rowNumber: Number(fields[0]),
      succeeded: fields[1] === 'True',
      message: csvValue(fields[2] ?? ''),
      transactionId: csvValue(fields[3] ?? ''),
      clickId: csvValue(fields[4] ?? ''),
      merchantReferenceId: csvValue(fields[5] ?? ''),
      cid: csvValue(fields[6] ?? ''),
    }));
}
