import crypto from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AfterChange } from '../store/after-change';
import type { Batch, BatchChannel, BatchListOptions, BatchRow, BatchStore, NewBatch } from '../store/batch-store';
import { retryingLockConflicts } from '../store/lock-retries';
import { checkModificationFile, decodedSlices, type FileEncoding } from './decode-file';
import { modificationFileRows, summariseModificationFile } from './parse-file';
import type { RowResult } from '../core/row-result';
import { fileKindOf, impactFileRows, type ImpactFormat, summariseImpactFile } from '../impact/impact-file';

/** An uploaded file and who sent it. */
export interface BatchUpload {
  filename: string;
  bytes: Buffer;
  /** The client IP campaign whitelists see for every row. */
  clientIp: string;
  /** Apply the file even when the same content was uploaded before. */
  force: boolean;
  /** The door it came in by (default `api`). */
  channel?: BatchChannel;
  /** An intake's campaign: the rows may touch only its transactions. */
  campaignId?: number | null;
  /** A merchant's upload (console, its intake credentials): the rows may touch only its campaigns' transactions. */
  merchantId?: number | null;
  /** Who sent it through an intake channel. */
  submittedBy?: string | null;
}

/** What an upload stored, as its audit row says it. */
export type StoredBatch = Pick<Batch, 'id' | 'records' | 'duplicateOf' | 'forced'>;

/** The answer to an upload: the stored batch, or why the file cannot be read (nothing stored). */
export type UploadResult = { ok: true; batch: Batch } | { ok: false; reason: string };

/** Rows per page when reading a batch's results. */
const RESULTS_PAGE = 2000;

/*
 * Rows read from the file and inserted (one multi-row INSERT) at a time: a 100,000-row file never sits in
 * memory as rows. Reading takes turns with the event loop (parse-file), so /transaction.edit keeps answering.
 */
const SLICE_ROWS = 1000;
/* Bytes hashed between two turns of the event loop. */
const HASH_SLICE_BYTES = 1024 * 1024;
/* Text looked at to tell an impact.com file from a Lead Poster file: its first lines, header included. */
const KIND_TEXT_CHARS = 64 * 1024;

/** Why an impact.com file named anything but .csv or .xml is not read (impact.com: "Records column shows 0"). */
export const NOT_CSV_OR_XML = 'the file is neither .csv nor .xml: impact.com files must be .csv or .xml';

/** A readable upload: what the batch row says of it, and its rows read afresh on each iteration. */
type ReadFile =
  | {
      ok: true;
      fields: Pick<NewBatch, 'kind' | 'format' | 'records' | 'error'>;
      rows: () => AsyncGenerator<BatchRow[]>;
    }
  | { ok: false; reason: string };

/**
 * Bulk modification files: reads an upload (decode, parse, refuse what cannot be read), stores it with
 * its rows for the worker, flags re-uploads of the same content, and reads batches and their results.
 */
export class BatchService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      store: Pick<BatchStore, 'create' | 'get' | 'list' | 'results' | 'codeCounts'>;
      /** Told when a batch is queued, so a worker in this process starts on it at once. */
      onQueued?: () => void;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Stores an upload. A file with no data rows is completed at once. A file whose bytes match an earlier
   * batch's is stored with `duplicateOf` that batch and is not applied (completed, nothing processed) —
   * unless `force`, when it is queued like any other.
   *
   * The file is read in slices, yielding to the event loop between them: once to check it is text, once
   * to check it parses and count its rows (a refused file stores nothing), and once more while its rows
   * are inserted, in the transaction that stores the batch — so the whole file is accepted or none of it.
   * `afterChange` (the console's audit row) runs in that transaction too, with the batch as stored.
   */
  async upload(upload: BatchUpload, afterChange?: AfterChange<StoredBatch>): Promise<UploadResult> {
    const decoded = await checkModificationFile(upload.bytes);
    if (!decoded.ok) return { ok: false, reason: decoded.reason };
    const file = await readFile(upload, decoded.encoding);
    if (!file.ok) return { ok: false, reason: file.reason };

    const now = this.now();
    const records = file.fields.records;
    const base = {
      ...file.fields,
      filename: upload.filename,
      contentSha256: await sha256(upload.bytes),
      encoding: decoded.encoding,
      clientIp: upload.clientIp,
      channel: upload.channel ?? 'api',
      campaignId: upload.campaignId ?? null,
      merchantId: upload.merchantId ?? null,
      submittedBy: upload.submittedBy ?? null,
      createdAt: now,
    };
    const settled = (apply: boolean) =>
      apply && records > 0
        ? { state: 'queued' as const, finishedAt: null }
        : { state: 'completed' as const, finishedAt: now };
    // Read afresh each time the store iterates: the rows are only read once the batch's row is in.
    const rows: AsyncIterable<BatchRow[]> = {
      [Symbol.asyncIterator]: () => countedRows(file.rows(), records),
    };

    // The id is known inside the storing transaction; the rest of what the audit says is decided here.
    const auditing = (fields: Omit<StoredBatch, 'id'>): AfterChange<number> | undefined =>
      afterChange && ((trx, id) => afterChange(trx, { id, ...fields }));
    // Each create is one transaction, retried whole after a deadlock or lock timeout (the rows are read afresh).
    const first = await retryingLockConflicts(() =>
      this.deps.store.create(
        { ...base, ...settled(true), duplicateOf: null, forced: false },
        rows,
        auditing({ records, duplicateOf: null, forced: false }),
      ),
    );
    let stored: Batch;
    if ('originalId' in first) {
      const apply = upload.force;
      const again = await retryingLockConflicts(() =>
        this.deps.store.create(
          { ...base, ...settled(apply), duplicateOf: first.originalId, forced: apply },
          apply ? rows : [],
          auditing({ records, duplicateOf: first.originalId, forced: apply }),
        ),
      );
      if (!('batch' in again)) throw new Error('a batch flagged duplicate cannot claim its content');
      stored = again.batch;
    } else {
      stored = first.batch;
    }
    if (stored.state === 'queued') this.deps.onQueued?.();
    return { ok: true, batch: stored };
  }

  /** One batch, or null. */
  get(id: number): Promise<Batch | null> {
    return this.deps.store.get(id);
  }

  /** Batches, newest first, optionally narrowed (kind, campaigns, creation time). */
  list(options: BatchListOptions): Promise<Batch[]> {
    return this.deps.store.list(options);
  }

  /** Per batch, how many of its processed rows got each impact.com code, most frequent first. */
  codeCounts(batchIds: number[]): Promise<Map<number, Array<{ code: string; count: number }>>> {
    return this.deps.store.codeCounts(batchIds);
  }

  /** A page of a batch's refused rows after row `afterRow`, in file order (the console's batch page). */
  failedRows(id: number, afterRow: number, limit: number): Promise<RowResult[]> {
    return this.deps.store.results(id, afterRow, limit, true);
  }

  /** The results of a batch's processed rows (`failedOnly`: the refused ones), in file order, a page at a time (a results file can be long). */
  async *results(id: number, failedOnly = false): AsyncGenerator<RowResult[]> {
    let afterRow = 0;
    for (;;) {
      const page = await this.deps.store.results(id, afterRow, RESULTS_PAGE, failedOnly);
      if (page.length === 0) return;
      yield page;
      afterRow = page[page.length - 1].rowNumber;
    }
  }
}

/**
 * Tells the kind of file from its name and first lines, and reads it to its end once: its layout and row
 * count, or why it cannot be read. An impact.com file named neither .csv nor .xml is not read at all: it
 * is stored completed with no records and says why, as impact.com's File Submissions do. Its format is
 * told from the content then, since the name says nothing.
 */
async function readFile(upload: BatchUpload, encoding: FileEncoding): Promise<ReadFile> {
  const text = () => decodedSlices(upload.bytes, encoding);
  const start = leadingText(text());
  if (fileKindOf(upload.filename, start) === 'lead-poster') {
    const summary = await summariseModificationFile(text());
    if (!summary.ok) return summary;
    return {
      ok: true,
      fields: { kind: 'lead-poster', format: summary.format, records: summary.records },
      rows: () => modificationFileRows(text(), SLICE_ROWS),
    };
  }
  const holdsXml = start
    .replace(/^\ufeff/, '')
    .trimStart()
    .startsWith('<');
  const format = impactFormatOf(upload.filename);
  if (format === null) {
    const fields = { kind: 'impact' as const, format: holdsXml ? ('xml' as const) : ('csv' as const), records: 0 };
    return { ok: true, fields: { ...fields, error: NOT_CSV_OR_XML }, rows: async function* () {} };
  }
  if (format === 'csv' && holdsXml) return { ok: false, reason: 'the file is named .csv but holds XML: name it .xml' };
  if (format === 'xml' && !holdsXml) return { ok: false, reason: 'the file is named .xml but does not hold XML' };
  const summary = await summariseImpactFile(text(), format);
  if (!summary.ok) return summary;
  return {
    ok: true,
    fields: { kind: 'impact', format, records: summary.records },
    rows: () => impactFileRows(text(), format, SLICE_ROWS, summary.columns),
  };
}

function impactFormatOf(filename: string): ImpactFormat | null {
  const extension = /\.([^.]*)$/.exec(filename.trim())?.[1]?.toLowerCase();
  return extension === 'csv' || extension === 'xml' ? extension : null;
}

/** The start of the text, up to the end of its first line with anything on it (or KIND_TEXT_CHARS). */
function leadingText(slices: Iterable<string>): string {
  let text = '';
  for (const slice of slices) {
    text += slice;
    if (text.length >= KIND_TEXT_CHARS || /[^\s,;][^\r\n]*[\r\n]/.test(text)) break;
  }
  return text.slice(0, KIND_TEXT_CHARS);
}

/*
 * The rows are read a second time from the same bytes, so they are the rows the summary counted; should
 * they ever differ, the error rolls the batch back rather than store a file whose `records` is wrong.
 */
async function* countedRows(slices: AsyncIterable<BatchRow[]>, expected: number): AsyncGenerator<BatchRow[]> {
  let count = 0;
  for await (const slice of slices) {
    count += slice.length;
    yield slice;
  }
  if (count !== expected) throw new Error(`read ${count} rows from a file counted as ${expected}`);
}

async function sha256(bytes: Buffer): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (let start = 0; start < bytes.length; start += HASH_SLICE_BYTES) {
    hash.update(bytes.subarray(start, start + HASH_SLICE_BYTES));
    await nextTurn();
  }
  return hash.digest('hex');
}
