import type { RawParameter } from '../core/raw-parameter';
import { csvRecordsInSlices, isCsvError, RowLimitError } from '../batch/csv-records';
import {
  describeSyntaxError,
  EXTRA_FIELDS_PARAMETER,
  type FileRejection,
  KNOWN_COLUMNS as LEAD_POSTER_COLUMNS,
  type ParsedRow,
} from '../batch/parse-file';
import { asciiLower, impactColumn, isImpactOnlyColumn, ORDER_COLUMNS } from './impact-columns';
import { XmlRefusal, xmlRows } from './impact-xml';

/*
 * Reading an impact.com modifications file (CSV or XML) into rows of pairs under canonical column names
 * (impact-columns), with the same two passes as a Lead Poster file (parse-file): a summary that reads the
 * whole text and keeps nothing but counts, then the rows in slices as they are stored.
 */

/** How an impact.com file is written. */
export type ImpactFormat = 'csv' | 'xml';

/** What a file's columns say it is: order level, items numbered, one item per row, mobile, or resets. */
export type ImpactShape = 'order' | 'item-numbered' | 'item-rows' | 'mobile' | 'reset';

/** An impact file whose columns are acceptable: its layout and how many data rows it has. */
export interface ImpactFileSummary {
  ok: true;
  format: ImpactFormat;
  shape: ImpactShape;
  /** Canonical column names (aliases resolved), in the file's order; for XML, in order of first appearance. */
  columns: string[];
  /** Data rows (blank rows not counted): the number of rows {@link impactFileRows} gives. */
  records: number;
}

/** Which kind of bulk file an upload is. */
export type FileKind = 'impact' | 'lead-poster';

const MOBILE = ['ActionId', 'Amount', 'Reason'];
// LinkTrust's columns but REASON (both vendors' word): a header naming one is a Lead Poster file's.
const LEAD_POSTER_ONLY = new Set(LEAD_POSTER_COLUMNS.filter((c) => c !== 'REASON').map((c) => c.toLowerCase()));
const RESET = ['Oid', 'ActionTrackerId', 'Reason'];
// Unknown names and row problems repeated in a refusal (the reason is stored in 1,024 characters).
const SHOWN_PROBLEMS = 10;

/**
 * Tells an impact.com file from a Lead Poster file by its name and the start of its text: XML (a `.xml`
 * name, or `<` as the first character besides whitespace), or a header naming a column only impact.com
 * files have (ActionId, Oid/OrderId, ActionTrackerId, Amount, DispositionCode, CurrencyCode,
 * CustomerStatus, Sku…, Quantity…), is impact; anything else is read as a Lead Poster file, as before.
 * A header that also names a LinkTrust column (Password, TransactionID, AP…) stays a Lead Poster file,
 * refused as before for its unknown columns: a stray `Amount` does not make a Lead Poster file another kind.
 */
export function fileKindOf(filename: string, firstText: string): FileKind {
  if (/\.xml$/i.test(filename.trim())) return 'impact';
  const text = firstText.startsWith('\ufeff') ? firstText.slice(1) : firstText;
  if (text.trimStart().startsWith('<')) return 'impact';
  const header = /^[^\r\n]*[^\s,;][^\r\n]*$/m.exec(text);
  if (header === null) return 'lead-poster';
  const names = header[0].split(/[\t,;]/).map((cell) =>
    cell
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim(),
  );
  if (names.some((name) => LEAD_POSTER_ONLY.has(asciiLower(name)))) return 'lead-poster';
  return names.some(isImpactOnlyColumn) ? 'impact' : 'lead-poster';
}

/**
 * Reads an impact file's text, given in slices, to its end: its layout and row count, or why it is
 * refused (a syntax error, a row past the limits, unknown or duplicate columns — every one named).
 * Takes turns with the event loop, as Lead Poster files do.
 */
export async function summariseImpactFile(
  text: Iterable<string>,
  format: ImpactFormat,
): Promise<ImpactFileSummary | FileRejection> {
  try {
    return format === 'csv' ? await summariseCsv(text) : await summariseXml(text);
  } catch (error) {
    return refusalFor(error);
  }
}

/**
 * The rows of a file {@link summariseImpactFile} accepted, in slices of at most `sliceRows`, never all held
 * at once. Pairs carry canonical names. An XML row holds the columns it names; given the summary's
 * `columns`, every row carries all of them (absent ones as ''), as a CSV row does.
 */
export async function* impactFileRows(
  text: Iterable<string>,
  format: ImpactFormat,
  sliceRows: number,
  columns?: string[],
): AsyncGenerator<ParsedRow[]> {
  const rows = format === 'csv' ? csvRows(text) : xmlFileRows(text, columns);
  let slice: ParsedRow[] = [];
  for await (const batch of rows) {
    for (const row of batch) {
      slice.push(row);
      if (slice.length === sliceRows) {
        yield slice;
        slice = [];
      }
    }
  }
  if (slice.length > 0) yield slice;
}

async function summariseCsv(text: Iterable<string>): Promise<ImpactFileSummary | FileRejection> {
  const file = csvRecordsInSlices(text, 'csv');
  if (file === null) return reject('the file is empty');
  let header: string[] | undefined;
  let records = 0;
  for await (const slice of file.records) {
    for (const fields of slice) {
      if (header === undefined) header = headerNames(fields);
      else if (!fields.every(isBlank)) records++;
    }
  }
  const names = header ?? [];
  const problems = headerProblems(names);
  if (problems.length > 0) return reject(problems.join('; '));
  const columns = names.map(canonical);
  return { ok: true, format: 'csv', shape: shapeOf(columns), columns, records };
}

async function* csvRows(text: Iterable<string>): AsyncGenerator<ParsedRow[]> {
  const file = csvRecordsInSlices(text, 'csv');
  if (file === null) throw new Error('the file has no header line: summarise it before reading its rows');
  let columns: string[] | undefined;
  let rowNumber = 0;
  for await (const records of file.records) {
    const rows: ParsedRow[] = [];
    for (const fields of records) {
      if (columns === undefined) {
        columns = headerNames(fields).map(canonical);
        continue;
      }
      rowNumber++;
      if (fields.every(isBlank)) continue;
      rows.push({ rowNumber, parameters: csvRowParameters(columns, fields) });
    }
    yield rows;
  }
}

async function summariseXml(text: Iterable<string>): Promise<ImpactFileSummary | FileRejection> {
  const columns = new Set<string>();
  const unknown = new Set<string>();
  const rowProblems: string[] = [];
  let records = 0;
  for await (const rows of xmlRows(text)) {
    for (const row of rows) {
      if (row.parameters.every((p) => isBlank(p.value))) continue;
      records++;
      const seen = new Set<string>();
      const duplicates = new Set<string>();
      for (const { name } of row.parameters) {
        const column = impactColumn(name);
        if (column === null) {
          unknown.add(name);
          continue;
        }
        if (seen.has(column.name)) duplicates.add(column.name);
        seen.add(column.name);
        columns.add(column.name);
      }
      if (duplicates.size > 0)
        rowProblems.push(`row ${row.rowNumber} has duplicate column: ${[...duplicates].join(', ')}`);
    }
  }
  const problems: string[] = [];
  if (unknown.size > 0) problems.push(`unknown column(s): ${shownList([...unknown])}`);
  if (rowProblems.length > SHOWN_PROBLEMS)
    rowProblems.splice(SHOWN_PROBLEMS, rowProblems.length, `and ${rowProblems.length - SHOWN_PROBLEMS} more rows`);
  problems.push(...rowProblems, ...itemStyleProblems([...columns]));
  if (problems.length > 0) return reject(problems.join('; '));
  const names = [...columns];
  return { ok: true, format: 'xml', shape: shapeOf(names), columns: names, records };
}

async function* xmlFileRows(text: Iterable<string>, columns: string[] | undefined): AsyncGenerator<ParsedRow[]> {
  for await (const rows of xmlRows(text)) {
    const parsed: ParsedRow[] = [];
    for (const row of rows) {
      if (row.parameters.every((p) => isBlank(p.value))) continue;
      const values = new Map(row.parameters.map((p) => [canonical(p.name), p.value] as const));
      const names = columns ?? [...values.keys()];
      parsed.push({
        rowNumber: row.rowNumber,
        parameters: names.map((name) => ({ name, value: values.get(name) ?? '' })),
      });
    }
    yield parsed;
  }
}

/** Every reason a CSV header cannot be used, so the brand can fix them all in one go. */
function headerProblems(columns: string[]): string[] {
  // A file without a header has data where the names should be: say so without repeating any of it.
  if (columns.every((name) => impactColumn(name) === null)) {
    return [`the first row is not a header: it names none of the columns ${ORDER_COLUMNS.join(', ')}, Sku, Quantity`];
  }
  const problems = columns.flatMap((name, i) => (name === '' ? [`column ${i + 1} has no name`] : []));
  const unknown = columns.filter((name) => name !== '' && impactColumn(name) === null);
  if (unknown.length > 0) problems.push(`unknown column(s): ${shownList(unknown)}`);
  const byCanonical = new Map<string, string[]>();
  for (const name of columns) {
    const column = impactColumn(name);
    if (column !== null) byCanonical.set(column.name, [...(byCanonical.get(column.name) ?? []), name]);
  }
  const duplicates = [...byCanonical.values()].filter((names) => names.length > 1);
  if (duplicates.length > 0)
    problems.push(`duplicate column: ${duplicates.map((names) => names.join(' and ')).join(', ')}`);
  problems.push(...itemStyleProblems([...byCanonical.keys()]));
  return problems;
}

/** Numbered item columns (Sku1…) and one-item-per-row columns (Sku…) cannot be mixed. */
function itemStyleProblems(columns: string[]): string[] {
  const kinds = columns.map(impactColumn);
  const numbered = kinds.some((column) => column?.kind === 'numbered');
  const unnumbered = kinds.some((column) => column?.kind === 'item');
  return numbered && unnumbered
    ? ['the file mixes numbered item columns (Sku1, Quantity1…) with one-item-per-row columns (Sku, Quantity…)']
    : [];
}

/** The file's shape, from its canonical columns. */
function shapeOf(columns: string[]): ImpactShape {
  const exactly = (expected: string[]) =>
    columns.length === expected.length && expected.every((name) => columns.includes(name));
  if (exactly(MOBILE)) return 'mobile';
  if (exactly(RESET)) return 'reset';
  const kinds = columns.map(impactColumn);
  if (kinds.some((column) => column?.kind === 'numbered')) return 'item-numbered';
  if (kinds.some((column) => column?.kind === 'item')) return 'item-rows';
  return 'order';
}

function canonical(name: string): string {
  return impactColumn(name)?.name ?? name;
}

/* Trailing empty header cells are Excel's used-range padding (see parse-file). */
function headerNames(cells: string[]): string[] {
  const names = cells.map((cell) => cell.trim());
  while (names.length > 0 && names[names.length - 1] === '') names.pop();
  return names;
}

function csvRowParameters(columns: string[], fields: string[]): RawParameter[] {
  const parameters = columns.map((name, i) => ({ name, value: fields[i] ?? '' }));
  let surplus = fields.length - columns.length;
  while (surplus > 0 && isBlank(fields[columns.length + surplus - 1])) surplus--;
  if (surplus > 0) parameters.push({ name: EXTRA_FIELDS_PARAMETER, value: String(surplus) });
  return parameters;
}

function isBlank(field: string): boolean {
  return field.trim() === '';
}

function shownList(names: string[]): string {
  const shown = names.slice(0, SHOWN_PROBLEMS).map((name) => (name.length > 64 ? `${name.slice(0, 64)}…` : name));
  return names.length > SHOWN_PROBLEMS
    ? `${shown.join(', ')} and ${names.length - SHOWN_PROBLEMS} more`
    : shown.join(', ');
}

/** The refusal of a file whose reading threw: a syntax error, a row past the limits, hostile XML. */
function refusalFor(error: unknown): FileRejection {
  if (error instanceof RowLimitError || error instanceof XmlRefusal) return reject(error.message);
  if (isCsvError(error)) return reject(describeSyntaxError(error));
  throw error;
}

function reject(reason: string): FileRejection {
  return { ok: false, reason };
}
