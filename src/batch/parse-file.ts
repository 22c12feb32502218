import type { CsvError } from 'csv-parse/sync';

// The same pair type as /transaction.edit's, so a row goes through the same parameter parser.
import { asciiLowerCase, type RawParameter } from '../core/raw-parameter';
import {
  csvRecordsInSlices,
  csvRecordsOfText,
  isCsvError,
  MAX_FIELDS_PER_ROW,
  MAX_ROW_CHARACTERS,
  rowName,
  RowLimitError,
} from './csv-records';

/**
 * The columns a Lead Poster file may carry, in LinkTrust's spelling. They are the query parameters of
 * `transaction.edit`; headers match them in any ASCII case, as LinkTrust matches parameter names.
 */
export const KNOWN_COLUMNS = [
  'Password',
  'TransactionID',
  'ClickID',
  'MerchantreferenceID',
  'CID',
  'AP',
  'MP',
  'A',
  'executeaffiliatepixel',
  'REASON',
] as const;

/** A column name from {@link KNOWN_COLUMNS}. */
export type KnownColumn = (typeof KNOWN_COLUMNS)[number];

/**
 * Name of the parameter added to a row that has more fields than the header has columns; its value is
 * the surplus count. The service refuses such a row rather than guess which field is misplaced.
 */
export const EXTRA_FIELDS_PARAMETER = '__extra_fields__';

/** One data row: its number as the merchant sees it (1 = first row under the header) and its pairs. */
export interface ParsedRow {
  rowNumber: number;
  parameters: RawParameter[];
}

/** A modification file whose header is acceptable, split into rows of raw parameters. */
export interface ParsedFile {
  ok: true;
  format: 'tab' | 'csv';
  /** Header names as spelled in the file (trimmed). */
  columns: string[];
  rows: ParsedRow[];
}

/** What reading a whole file finds without keeping its rows: its layout and how many data rows it has. */
export interface FileSummary {
  ok: true;
  format: 'tab' | 'csv';
  /** Header names as spelled in the file (trimmed). */
  columns: string[];
  /** Data rows (blank rows not counted): the number of rows {@link modificationFileRows} gives. */
  records: number;
}

/** Why a whole file is refused; the text is shown to the merchant as is. */
export interface FileRejection {
  ok: false;
  reason: string;
}

const KNOWN_BY_LOWER_CASE = new Map<string, KnownColumn>(KNOWN_COLUMNS.map((column) => [column.toLowerCase(), column]));

/**
 * Reads the text of a Lead Poster file (Excel "Text (Tab delimited)" or a CSV) into rows of raw
 * parameters, refusing the whole file when its header cannot describe a modification. Values are
 * kept exactly as written: deciding what a value means, and whether it is valid, is the service's job.
 */
export function parseModificationFile(text: string): ParsedFile | FileRejection {
  let file: ReturnType<typeof csvRecordsOfText>;
  try {
    file = csvRecordsOfText(text);
  } catch (error) {
    return refusalFor(error);
  }
  if (file === null) return reject('the file is empty');
  const { format, records } = file;

  const columns = headerNames(records[0] ?? []);
  const problems = headerProblems(columns);
  if (problems.length > 0) return reject(problems.join('; '));

  const rows: ParsedRow[] = [];
  // Record index = row number: every record after the header counts, blank or not, so the numbers
  // match the spreadsheet rows the merchant sees (a quoted multi-line cell is still one row).
  for (let index = 1; index < records.length; index++) {
    const fields = records[index];
    if (fields.every(isBlank)) continue;
    rows.push({ rowNumber: index, parameters: rowParameters(columns, fields) });
  }
  return { ok: true, format, columns, rows };
}

/**
 * Reads a file's text, given in slices, to its end and says what {@link parseModificationFile} would of
 * the whole text — the same layout, the same refusal — with the number of data rows instead of the rows:
 * a large upload is checked without holding its rows. Takes turns with the event loop (see csv-records).
 */
export async function summariseModificationFile(text: Iterable<string>): Promise<FileSummary | FileRejection> {
  let file: ReturnType<typeof csvRecordsInSlices>;
  try {
    file = csvRecordsInSlices(text);
  } catch (error) {
    return refusalFor(error);
  }
  if (file === null) return reject('the file is empty');
  let columns: string[] | undefined;
  let records = 0;
  try {
    for await (const slice of file.records) {
      for (const fields of slice) {
        if (columns === undefined) columns = headerNames(fields);
        else if (!fields.every(isBlank)) records++;
      }
    }
  } catch (error) {
    // As in parseModificationFile, a syntax error (or a row past the limits) anywhere in the file outranks
    // the header's problems.
    return refusalFor(error);
  }
  const header = columns ?? [];
  const problems = headerProblems(header);
  if (problems.length > 0) return reject(problems.join('; '));
  return { ok: true, format: file.format, columns: header, records };
}

/**
 * The rows of a file {@link summariseModificationFile} accepted, read from its text slices as they are
 * consumed, in slices of at most `sliceRows` rows: the rows {@link parseModificationFile} gives, without
 * ever holding them all. Takes turns with the event loop (see csv-records).
 */
export async function* modificationFileRows(text: Iterable<string>, sliceRows: number): AsyncGenerator<ParsedRow[]> {
  const file = csvRecordsInSlices(text);
  if (file === null) throw new Error('the file has no header line: summarise it before reading its rows');
  let columns: string[] | undefined;
  let rowNumber = 0;
  let slice: ParsedRow[] = [];
  for await (const records of file.records) {
    for (const fields of records) {
      if (columns === undefined) {
        columns = headerNames(fields);
        continue;
      }
      rowNumber++;
      if (fields.every(isBlank)) continue;
      slice.push({ rowNumber, parameters: rowParameters(columns, fields) });
      if (slice.length === sliceRows) {
        yield slice;
        slice = [];
      }
    }
  }
  if (slice.length > 0) yield slice;
}

/*
 * Trailing empty header cells are dropped: Excel saves every row out to the sheet's used range, so a
 * once-touched cell to the right adds empty columns to the header and every row.
 */
function headerNames(cells: string[]): string[] {
  const names = cells.map((cell) => cell.trim());
  while (names.length > 0 && names[names.length - 1] === '') names.pop();
  return names;
}

/** Every reason the header cannot be used, so the merchant can fix them all in one go. */
function headerProblems(columns: string[]): string[] {
  const problems: string[] = [];
  // A file without a header row has data (passwords included) where the names should be: say so
  // without repeating any of it, since the reason is shown and logged.
  if (columns.every((name) => name === '' || !KNOWN_BY_LOWER_CASE.has(asciiLowerCase(name)))) {
    return [`the first row is not a header: it names none of the columns ${KNOWN_COLUMNS.join(', ')}`];
  }
  const unnamed = columns.flatMap((name, i) => (name === '' ? [`column ${i + 1} has no name`] : []));
  problems.push(...unnamed);

  const unknown = columns.filter((name) => name !== '' && !KNOWN_BY_LOWER_CASE.has(asciiLowerCase(name)));
  if (unknown.length > 0) problems.push(`unknown column(s): ${unknown.join(', ')}`);

  const present = new Set<KnownColumn>();
  const duplicates = new Set<string>();
  for (const name of columns) {
    const known = KNOWN_BY_LOWER_CASE.get(asciiLowerCase(name));
    if (known === undefined) continue;
    if (present.has(known)) duplicates.add(name);
    present.add(known);
  }
  if (duplicates.size > 0) problems.push(`duplicate column: ${[...duplicates].join(', ')}`);

  if (!present.has('Password')) problems.push('missing column: Password');
  // A row needs one of LinkTrust's three ways to find a transaction; which one is decided per row.
  if (!present.has('TransactionID') && !present.has('ClickID') && !present.has('MerchantreferenceID')) {
    problems.push('missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID');
  } else if (present.has('MerchantreferenceID') && !present.has('CID')) {
    // Merchant references are only unique within a campaign.
    problems.push('missing column: CID');
  }
  return problems;
}

function rowParameters(columns: string[], fields: string[]): RawParameter[] {
  const parameters = columns.map((name, i) => ({ name, value: fields[i] ?? '' }));
  // Empty trailing fields are Excel's used-range padding (see headerNames), not misplaced data.
  let surplus = fields.length - columns.length;
  while (surplus > 0 && isBlank(fields[columns.length + surplus - 1])) surplus--;
  if (surplus > 0) parameters.push({ name: EXTRA_FIELDS_PARAMETER, value: String(surplus) });
  return parameters;
}

function isBlank(field: string): boolean {
  return field.trim() === '';
}

/** The refusal of a file whose reading threw: a syntax error or a row past the limits; anything else is rethrown. */
function refusalFor(error: unknown): FileRejection {
  if (error instanceof RowLimitError) return reject(error.message);
  if (isCsvError(error)) return reject(describeSyntaxError(error));
  throw error;
}

/** What a csv-parse syntax error means to the merchant (impact.com files say it the same way). */
export function describeSyntaxError(error: CsvError): string {
  // csv-parse has emitted the header and every complete row, so the count names the row it stopped in.
  const where = rowName(Number(error.records));
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') return `${where} opens a quoted field that is never closed`;
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    // Past the field limit csv-parse gathers the rest of the row in one field, which then outgrows the size limit.
    if (Number(error.index) >= MAX_FIELDS_PER_ROW)
      return `${where} has more than ${MAX_FIELDS_PER_ROW.toLocaleString('en-US')} fields`;
    return `${where} is longer than ${MAX_ROW_CHARACTERS.toLocaleString('en-US')} characters`;
  }
  return `the file could not be parsed: ${error.message}`;
}

function reject(reason: string): FileRejection {
  return { ok: false, reason };
}
