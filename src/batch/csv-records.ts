import { setImmediate as nextTurn } from 'node:timers/promises';
import { CsvError as StreamCsvError, parse as parseStream } from 'csv-parse';
import { CsvError, parse } from 'csv-parse/sync';

/*
 * The csv layer under parse-file: where a Lead Poster file's header line is, which delimiter it uses, and
 * its records (csv-parse, with the same options either way) from the whole text or from text slices.
 */

/** How a Lead Poster file separates its fields: tabs (LinkTrust's TXT) or commas (a CSV). */
export type FileFormat = 'tab' | 'csv';

/**
 * At most this many fields in a row (header included): Excel's own column limit, so every sheet it saves
 * fits, padding and all. Without a limit, one line of 20 million commas became an array of 20 million
 * strings and took the server past its heap limit.
 */
export const MAX_FIELDS_PER_ROW = 16_384;

/**
 * At most this many characters (1 MiB) in the fields of one row together, so csv-parse never buffers a
 * longer field or row. A Lead Poster row needs a few hundred; an oversized value (a 100,000-character
 * REASON) is still answered row by row, as /transaction.edit answers it.
 */
export const MAX_ROW_CHARACTERS = 1_048_576;

/**
 * The longest line looked at while finding the header: a header (or a blank row above it, which Excel
 * writes as commas) of MAX_FIELDS_PER_ROW columns with names in them.
 */
const MAX_HEADER_LINE_CHARACTERS = MAX_ROW_CHARACTERS + MAX_FIELDS_PER_ROW;

/** A row past MAX_FIELDS_PER_ROW or MAX_ROW_CHARACTERS: the whole file is refused with this message. */
export class RowLimitError extends Error {}

/** The header (record 0) or the data row `index` under it, as the merchant counts rows. */
export function rowName(index: number): string {
  return index > 0 ? `row ${index}` : 'the header';
}

/** A file's format and its csv records from the header line on, header first. */
export interface CsvRecords<T> {
  format: FileFormat;
  records: T;
}

/*
 * The first line with anything besides whitespace and commas: Excel's CSV export writes an empty
 * sheet row as ",,,,", and leading blank rows are common in hand-made sheets.
 */
const HEADER_LINE = /^[^\r\n]*[^\s,][^\r\n]*$/m;

/**
 * The csv records of a file's whole text, from its header line on (a leading BOM and blank lines
 * skipped); null when no line holds anything. Throws csv-parse's CsvError on a syntax error.
 */
export function csvRecordsOfText(text: string): CsvRecords<string[][]> | null {
  const headerLine = HEADER_LINE.exec(text.startsWith('\ufeff') ? text.slice(1) : text);
  if (headerLine === null) return null;
  if (headerLine[0].length > MAX_HEADER_LINE_CHARACTERS) throw headerTooLong();
  const format = formatOf(headerLine[0]);
  const records: string[][] = parse(headerLine.input.slice(headerLine.index), csvOptions(format));
  records.forEach(checkFieldCount);
  return { format, records };
}

/**
 * The same records as {@link csvRecordsOfText}, from the text given in slices, handed over a slice at a
 * time as the text is read. A syntax error (csv-parse's CsvError) or a row past the limits (RowLimitError)
 * is thrown where the reading meets it — a header line past them already here. `format` imposes the
 * delimiter instead of telling it from the header line (impact.com files are always comma-separated).
 */
export function csvRecordsInSlices(
  text: Iterable<string>,
  format?: FileFormat,
): CsvRecords<AsyncGenerator<string[][]>> | null {
  const header = findHeaderLine(text);
  if (header === null) return null;
  const used = format ?? header.format;
  return { format: used, records: csvRecords(header.body, used) };
}

/**
 * Reads slices until the header line (see HEADER_LINE) is whole, and returns the file's format and its
 * text from that line on. The blank lines before it are dropped as they are passed, so a long run of
 * them costs no memory.
 */
function findHeaderLine(text: Iterable<string>): { format: FileFormat; body: Generator<string> } | null {
  const slices = text[Symbol.iterator]();
  let pending = '';
  let started = false;
  for (;;) {
    const next = slices.next();
    if (!next.done) {
      pending += next.value;
      if (!started && pending !== '') {
        started = true;
        if (pending.startsWith('\ufeff')) pending = pending.slice(1);
      }
      // A line ends at a line break: until one arrives, more text can only lengthen the line — up to a limit,
      // so that a file of one endless line is not gathered whole.
      if (!/[\r\n]/.test(next.value)) {
        if (pending.length - lineStart(pending) > MAX_HEADER_LINE_CHARACTERS) throw headerTooLong();
        continue;
      }
    }
    const line = HEADER_LINE.exec(pending);
    if (line !== null && (next.done === true || line.index + line[0].length < pending.length)) {
      return { format: formatOf(line[0]), body: followedBy(pending.slice(line.index), slices) };
    }
    if (next.done) return null;
    pending = pending.slice(
      line === null ? Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r')) + 1 : line.index,
    );
  }
}

/** Where the last line of `text` begins. */
function lineStart(text: string): number {
  return Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1;
}

function headerTooLong(): RowLimitError {
  return new RowLimitError(
    `the header line is longer than ${MAX_HEADER_LINE_CHARACTERS.toLocaleString('en-US')} characters`,
  );
}

/** Refuses a record of more than MAX_FIELDS_PER_ROW fields (csv-parse leaves the surplus in one last field). */
function checkFieldCount(record: string[], index: number): void {
  if (record.length > MAX_FIELDS_PER_ROW) {
    throw new RowLimitError(`${rowName(index)} has more than ${MAX_FIELDS_PER_ROW.toLocaleString('en-US')} fields`);
  }
}

function* followedBy(head: string, rest: Iterator<string>): Generator<string> {
  yield head;
  for (let next = rest.next(); !next.done; next = rest.next()) yield next.value;
}

/*
 * The csv records of the text, slice by slice: the records each text slice completes, then a turn of the
 * event loop, so reading a 100,000-row upload never holds the process for more than a millisecond or so.
 * csv-parse's stream parser keeps its state between slices (a quoted field, or a CRLF, cut in two), so
 * the records are those of the whole text. A slice is parsed as it is written; its records are then read
 * off at once (a promise per slice, not per record). A syntax error fails the write or the end that meets it.
 */
async function* csvRecords(body: Iterable<string>, format: FileFormat): AsyncGenerator<string[][]> {
  const parser = parseStream(csvOptions(format));
  parser.on('error', () => {
    // Reported by the write or the end below.
  });
  let index = 0;
  const readParsed = (records: string[][] = []) => {
    for (let record = parser.read(); record !== null; record = parser.read()) {
      checkFieldCount(record, index++);
      records.push(record);
    }
    return records;
  };
  try {
    for (const slice of body) {
      const written = new Promise<void>((resolve, reject) =>
        parser.write(slice, (error) => (error ? reject(error) : resolve())),
      );
      // Reading makes room: the parser holds back the write's completion while its records wait.
      const records = readParsed();
      await written;
      readParsed(records);
      if (records.length > 0) yield records;
      await nextTurn();
    }
    await new Promise<void>((resolve, reject) =>
      parser.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const last = readParsed();
    if (last.length > 0) yield last;
  } finally {
    parser.destroy();
  }
}

// The LinkTrust sample is tab-delimited; a comma header means the merchant saved it as CSV instead.
function formatOf(headerLine: string): FileFormat {
  return !headerLine.includes('\t') && headerLine.includes(',') ? 'csv' : 'tab';
}

function csvOptions(format: FileFormat) {
  return {
    delimiter: format === 'tab' ? '\t' : ',',
    // Excel writes CRLF, old Mac tools CR, everything else LF; a file edited by several may mix them.
    record_delimiter: ['\r\n', '\n', '\r'],
    // Checked row by row (parse-file) so one bad row does not sink the file.
    relax_column_count: true,
    // A quote inside an unquoted value (5" screen) is data, not a syntax error.
    relax_quotes: true,
    // The limits. Past MAX_FIELDS_PER_ROW fields csv-parse stops splitting a row and keeps the rest in its
    // last field, so a row of millions of delimiters costs one bounded field, not millions of strings;
    // max_record_size then stops any field, or row, past MAX_ROW_CHARACTERS (CSV_MAX_RECORD_SIZE).
    ignore_last_delimiters: MAX_FIELDS_PER_ROW + 1,
    max_record_size: MAX_ROW_CHARACTERS,
  };
}

/** True for a csv-parse syntax error (the sync and the stream builds each carry their own CsvError class). */
export function isCsvError(error: unknown): error is CsvError {
  return error instanceof CsvError || error instanceof StreamCsvError;
}
