import { promises as fs } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { RESULTS_CSV_COLUMNS, csvValue, formatResultsCsv, resultsCsvHeader, resultsCsvRecord } from '../results-csv';
import type { RowResult } from '../../core/row-result';

/** The identifying values of a row, as written in the input file ('' when absent). */
export type RowIdentifiers = Pick<RowResult, 'transactionId' | 'clickId' | 'merchantReferenceId' | 'cid'>;

/** The results already on disk, latest line per row; or why the file at that path cannot be used. */
export type ExistingResults =
  { ok: true; exists: boolean; records: Map<number, RowResult> } | { ok: false; reason: string };

/**
 * Reads a results file left by an earlier run. Later lines for a row replace earlier ones (a re-run
 * appends). A torn last line from a crash is ignored, so that row is simply posted again.
 */
export async function readResultsFile(path: string): Promise<ExistingResults> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, exists: false, records: new Map() };
    throw error;
  }
  if (text.length === 0) return { ok: true, exists: true, records: new Map() };
  const records: string[][] = parse(text.startsWith('\ufeff') ? text.slice(1) : text, {
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    skip_empty_lines: true,
    // An unterminated quoted field at the end is a line cut short by a crash, not a reason to stop.
    skip_records_with_error: true,
  });
  const header = records[0] ?? [];
  if (header.join(',') !== RESULTS_CSV_COLUMNS.join(',')) {
    return {
      ok: false,
      reason: `${path} exists and is not a Lead Poster results file (its header is not ${RESULTS_CSV_COLUMNS.join(',')})`,
    };
  }
  const byRow = new Map<number, RowResult>();
  for (const fields of records.slice(1)) {
    const record = recordFromFields(fields);
    if (record !== null) byRow.set(record.rowNumber, record);
  }
  return { ok: true, exists: true, records: byRow };
}

function recordFromFields(fields: string[]): RowResult | null {
  if (fields.length !== RESULTS_CSV_COLUMNS.length || !/^\d+$/.test(fields[0])) return null;
  const [rowNumber, succeeded, message, transactionId, clickId, merchantReferenceId, cid] = fields.map(csvValue);
  return {
    rowNumber: Number(rowNumber),
    succeeded: succeeded === 'True',
    message,
    transactionId,
    clickId,
    merchantReferenceId,
    cid,
  };
}

/**
 * Whether a recorded row is finished, so a re-run does not post it again: it succeeded, or it failed
 * in a way posting the same values again cannot change — a permanent failure from the server, or the
 * poster's own refusal of a misaligned row (worded like the server's batch results, "Permanent
 * failure: Row has …"). Temporary, system and transport failures are posted again. The identifiers
 * must still match the input's row, so a results file from an edited input does not hide edited rows.
 */
export function isFinished(record: RowResult, row: RowIdentifiers, options: { repostFailed: boolean }): boolean {
  if (!matchesRow(record, row)) return false;
  if (record.succeeded) return true;
  return !options.repostFailed && isFinalFailure(record.message);
}

/** Whether a record was written for a row with these identifiers (not for an older version of the input). */
export function matchesRow(record: RowResult, row: RowIdentifiers): boolean {
  return (
    record.transactionId === row.transactionId &&
    record.clickId === row.clickId &&
    record.merchantReferenceId === row.merchantReferenceId &&
    record.cid === row.cid
  );
}

/** A failure message that a retry of the same row cannot turn into a success. */
export function isFinalFailure(message: string): boolean {
  // LinkTrust's sample writes "Permanent Failure", its table "Permanent failure".
  return /^permanent failure/i.test(message);
}

/**
 * Appends result lines as rows finish, one write per line, so a crash loses at most the rows in
 * flight. Writes are queued: one `write` at a time on the handle.
 */
export class ResultsAppender {
  private queue: Promise<void> = Promise.resolve();

  private constructor(private readonly handle: fs.FileHandle) {}

  /** Opens (creating) the file for appending, writing the header to a new or empty file. */
  static async open(path: string): Promise<ResultsAppender> {
    const handle = await fs.open(path, 'a+');
    try {
      const { size } = await handle.stat();
      if (size === 0) {
        await handle.write(resultsCsvHeader());
      } else {
        // A line torn by a crash would swallow the first new line; start on a fresh one.
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) await handle.write('\r\n');
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new ResultsAppender(handle);
  }

  /** Queues one record; resolves once it is written. */
  append(record: RowResult): Promise<void> {
    const line = resultsCsvRecord(record);
    const written = this.queue.then(async () => {
      await this.handle.write(line);
    });
    // A failed write fails its own caller; the queue carries on for the others.
    this.queue = written.catch(() => undefined);
    return written;
  }

  /** Waits for queued writes and closes the file. */
  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }
}

/**
 * Rewrites the results file with one line per row, in row order, once a run is over: after a few
 * resumed runs the appended file would list a row several times. Written beside and renamed over, so
 * a crash here leaves the appended file, which reads the same.
 */
export async function compactResultsFile(path: string, records: Iterable<RowResult>): Promise<void> {
  const sorted = [...records].sort((a, b) => a.rowNumber - b.rowNumber);
  const temporary = `${path}.${process.pid}.tmp`;
  await fs.writeFile(temporary, formatResultsCsv(sorted));
  await fs.rename(temporary, path);
}
