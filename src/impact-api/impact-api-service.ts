import crypto from 'node:crypto';
import type { RawParameter } from '../core/raw-parameter';
import type { RowResult } from '../core/row-result';
import { isValidIdempotencyKey } from '../linktrust/request-parser';
import { statusOf, isImpactCode, type ImpactStatus } from '../impact/result-codes';
import type { ApiAccountStore, ApiCaller } from '../store/api-account-store';
import type { ApiSubmission, ApiSubmissionStore, ApiSubmissionType } from '../store/api-submission-store';
import type { Batch, BatchListOptions } from '../store/batch-store';
import { classifyDatabaseError } from '../store/database-errors';
import { actionParameters } from './action-parameters';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** What a PUT or DELETE on Actions came to. */
export type SubmitAnswer =
  { ok: true; submission: ApiSubmission; replayed: boolean } | { ok: false; status: 400 | 409; message: string };

/** A page of an account's impact.com files. */
export interface FilePage {
  batches: Batch[];
  hasMore: boolean;
}

/** A failed row of a file as ErrorDetails lists it. */
export interface FileError {
  line: number;
  actionId: string | null;
  actionTrackerId: string | null;
  orderId: string | null;
  sku: string | null;
  code: string | null;
  status: Exclude<ImpactStatus, 'OK'>;
  reason: string;
}

/** The batches an account's file listing reads (BatchService satisfies it). */
export interface AccountBatches {
  get(id: number): Promise<Batch | null>;
  list(options: BatchListOptions): Promise<Batch[]>;
  results(id: number, failedOnly?: boolean): AsyncGenerator<RowResult[]>;
}

/**
 * impact.com's REST API behind its routes: queues Actions calls (durably, before answering QUEUED; the
 * worker applies them), reads submissions back, and lists an account's impact.com files and their errors.
 */
export class ImpactApiService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      submissions: ApiSubmissionStore;
      accounts: Pick<ApiAccountStore, 'campaignIdsOf'>;
      batches: AccountBatches;
      accountCurrency: string;
      /** Told when a submission is stored, so a worker in this process applies it at once. */
      onQueued?: () => void;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Stores a modification or reversal for the worker, or refuses it with nothing stored. With an
   * `Idempotency-Key` (as on /transaction.edit): the same key with the same parameters answers the first
   * submission again; with other parameters, 409.
   */
  async submit(
    account: ApiCaller,
    type: ApiSubmissionType,
    supplied: RawParameter[],
    idempotencyKey: string | null,
  ): Promise<SubmitAnswer> {
    if (idempotencyKey !== null && !isValidIdempotencyKey(idempotencyKey))
      return { ok: false, status: 400, message: 'Idempotency-Key: must be 1 to 255 printable ASCII characters' };
    const parsed = actionParameters(type, supplied, this.deps.accountCurrency);
    if (!parsed.ok) return { ok: false, status: 400, message: parsed.message };
    const keySha256 = idempotencyKey === null ? null : sha256(idempotencyKey);
    if (keySha256 !== null) {
      const earlier = await this.deps.submissions.findByIdempotencyKey(account.id, keySha256);
      if (earlier) return replayOf(earlier, parsed.fingerprint);
    }
    try {
      const submission = await this.deps.submissions.insert({
        publicId: `A-${crypto.randomUUID()}`,
        accountId: account.id,
        type,
        parameters: parsed.parameters,
        actionId: parsed.row.actionId,
        submittedAt: this.now(),
        idempotencyKeySha256: keySha256,
        fingerprint: parsed.fingerprint,
      });
      this.deps.onQueued?.();
      return { ok: true, submission, replayed: false };
    } catch (error) {
      // A concurrent twin under the same key stored first: answer as it was answered.
      if (keySha256 === null || classifyDatabaseError(error) !== 'duplicate_key') throw error;
      const twin = await this.deps.submissions.findByIdempotencyKey(account.id, keySha256);
      if (!twin) throw error;
      return replayOf(twin, parsed.fingerprint);
    }
  }

  /** One of the account's submissions, or null. */
  submission(account: ApiCaller, publicId: string): Promise<ApiSubmission | null> {
    return this.deps.submissions.find(account.id, publicId);
  }

  /**
   * The account's impact.com files (its campaigns' impact batches), newest first, a page at a time
   * (`page` from 1), optionally from/to a submission time.
   */
  async files(
    account: ApiCaller,
    options: { page: number; pageSize: number; from?: number; to?: number },
  ): Promise<FilePage> {
    const campaignIds = await this.deps.accounts.campaignIdsOf(account.id);
    if (campaignIds.length === 0) return { batches: [], hasMore: false };
    const query = {
      kind: 'impact' as const,
      campaignIds,
      createdFrom: options.from,
      createdTo: options.to,
    };
    let beforeId: number | undefined;
    // Earlier pages are walked by id (the store pages by `beforeId`), one query per page.
    for (let page = 1; page < options.page; page++) {
      const skipped = await this.deps.batches.list({ ...query, limit: options.pageSize, beforeId });
      if (skipped.length < options.pageSize) return { batches: [], hasMore: false };
      beforeId = skipped[skipped.length - 1].id;
    }
    const batches = await this.deps.batches.list({ ...query, limit: options.pageSize + 1, beforeId });
    return { batches: batches.slice(0, options.pageSize), hasMore: batches.length > options.pageSize };
  }

  /** One of the account's impact.com files, or null (none, or not one of its campaigns'). */
  async file(account: ApiCaller, batchId: number): Promise<Batch | null> {
    const batch = await this.deps.batches.get(batchId);
    if (!batch || batch.kind !== 'impact' || batch.campaignId === null) return null;
    return (await this.deps.accounts.campaignIdsOf(account.id)).includes(batch.campaignId) ? batch : null;
  }

  /**
   * The failed rows of one of the account's files, in file order, or null. `Validation` for a mistake in
   * the row itself (MALFORMED, an ActionTrackerId, an action or a Sku not found, a disposition not allowed),
   * `Contract Error` for the action's state (locked, reversed, approved, at its limit, unchanged) — the
   * mapping of result-codes' `statusOf`.
   */
  async fileErrors(account: ApiCaller, batchId: number): Promise<FileError[] | null> {
    if (!(await this.file(account, batchId))) return null;
    const errors: FileError[] = [];
    // The refused rows only: a 100,000-row file with a few mistakes is not read whole.
    for await (const page of this.deps.batches.results(batchId, true)) {
      for (const row of page) {
        const code = row.code && isImpactCode(row.code) ? row.code : null;
        const status = code === null ? 'Validation' : statusOf(code);
        errors.push({
          line: row.rowNumber,
          actionId: row.actionId ?? null,
          actionTrackerId: row.actionTrackerId ?? null,
          orderId: row.oid ?? (row.merchantReferenceId || null),
          sku: row.sku ?? null,
          code: row.code ?? null,
          status: status === 'OK' ? 'Validation' : status,
          reason: row.message,
        });
      }
    }
    return errors;
  }
}

function replayOf(earlier: ApiSubmission, fingerprint: string): SubmitAnswer {
  return earlier.fingerprint === fingerprint
    ? { ok: true, submission: earlier, replayed: true }
    : { ok: false, status: 409, message: 'Idempotency-Key: already used for a request with other parameters' };
}
