import crypto from 'node:crypto';
import type { Batch, BatchStore } from '../store/batch-store';
import { decodeModificationFile } from './decode-file';
import { parseModificationFile } from './parse-file';
import type { RowResult } from './results-csv';

/** An uploaded file and who sent it. */
export interface BatchUpload {
  filename: string;
  bytes: Buffer;
  /** The client IP campaign whitelists see for every row. */
  clientIp: string;
  /** Apply the file even when the same content was uploaded before. */
  force: boolean;
}

/** The answer to an upload: the stored batch, or why the file cannot be read (nothing stored). */
export type UploadResult = { ok: true; batch: Batch } | { ok: false; reason: string };

/** Rows per page when reading a batch's results. */
const RESULTS_PAGE = 2000;

/**
 * Bulk modification files: reads an upload (decode, parse, refuse what cannot be read), stores it with
 * its rows for the worker, flags re-uploads of the same content, and reads batches and their results.
 */
export class BatchService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      store: BatchStore;
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
   */
  async upload(upload: BatchUpload): Promise<UploadResult> {
    const decoded = decodeModificationFile(upload.bytes);
    if (!decoded.ok) return { ok: false, reason: decoded.reason };
    const parsed = parseModificationFile(decoded.text);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };

    const now = this.now();
    const rows = parsed.rows;
    const base = {
      filename: upload.filename,
      contentSha256: crypto.createHash('sha256').update(upload.bytes).digest('hex'),
      format: parsed.format,
      encoding: decoded.encoding,
      records: rows.length,
      clientIp: upload.clientIp,
      createdAt: now,
    };
    const settled = (apply: boolean) => (apply && rows.length > 0 ? { state: 'queued' as const, finishedAt: null } : { state: 'completed' as const, finishedAt: now });

    const first = await this.deps.store.create({ ...base, ...settled(true), duplicateOf: null, forced: false }, rows);
    let stored: Batch;
    if ('originalId' in first) {
      const apply = upload.force;
      const again = await this.deps.store.create({ ...base, ...settled(apply), duplicateOf: first.originalId, forced: apply }, apply ? rows : []);
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

  /** Batches, newest first. */
  list(options: { limit: number; beforeId?: number }): Promise<Batch[]> {
    return this.deps.store.list(options);
  }

  /** The results of a batch's processed rows, in file order, a page at a time (a results file can be long). */
  async *results(id: number): AsyncGenerator<RowResult[]> {
    let afterRow = 0;
    for (;;) {
      const page = await this.deps.store.results(id, afterRow, RESULTS_PAGE);
      if (page.length === 0) return;
      yield page;
      afterRow = page[page.length - 1].rowNumber;
    }
  }
}
