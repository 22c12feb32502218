import type { Knex } from 'knex';
import type { RawParameter } from '../core/raw-parameter';
import { classifyDatabaseError } from './database-errors';
import type { Sql } from './sql';

/** What an API submission asks for: a modification (PUT) or a reversal (DELETE). */
export type ApiSubmissionType = 'Modification' | 'Reversal';

/** Where a submission stands. */
export type ApiSubmissionStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETE';

/** One queued call of impact.com's Actions API. */
export interface ApiSubmission {
  /** The order submissions are applied in. */
  id: number;
  publicId: string;
  accountId: number;
  type: ApiSubmissionType;
  /** The parameters under impact.com's file column names, as applied. */
  parameters: RawParameter[];
  status: ApiSubmissionStatus;
  code: string | null;
  message: string | null;
  actionId: string | null;
  submittedAt: number;
  completedAt: number | null;
  idempotencyKeySha256: string | null;
  fingerprint: string | null;
}

/** A submission to store. */
export type NewApiSubmission = Pick<
  ApiSubmission,
  'publicId' | 'accountId' | 'type' | 'parameters' | 'actionId' | 'submittedAt' | 'idempotencyKeySha256' | 'fingerprint'
>;

/** What became of a submission. */
export interface SubmissionResult {
  code: string;
  message: string;
  actionId: string | null;
  completedAt: number;
}

type Row = Record<string, unknown>;
const MESSAGE_CHARS = 255;

function submissionFromRow(r: Row): ApiSubmission {
  const nullable = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(r.id),
    publicId: String(r.public_id),
    accountId: Number(r.account_id),
    type: r.type as ApiSubmissionType,
    parameters: JSON.parse(String(r.parameters)) as RawParameter[],
    status: r.status as ApiSubmissionStatus,
    code: nullable(r.code),
    message: nullable(r.message),
    actionId: nullable(r.action_id),
    submittedAt: Number(r.submitted_at),
    completedAt: r.completed_at === null || r.completed_at === undefined ? null : Number(r.completed_at),
    idempotencyKeySha256: nullable(r.idempotency_key_sha256),
    fingerprint: nullable(r.fingerprint),
  };
}

/** The api_submissions table and the lease of the worker that applies them (api_submission_leases). */
export class ApiSubmissionStore {
  constructor(
    private readonly knex: Knex,
    private readonly sql: Pick<Sql, 'run'>,
  ) {}

  /**
   * Stores a submission (committed when this resolves). A second submission under an account's
   * idempotency key fails with the database's duplicate-key error.
   */
  async insert(submission: NewApiSubmission): Promise<ApiSubmission> {
    // A prepared statement: every PUT and DELETE stores one.
    const { insertId: id } = await this.sql.run(
      "insert into api_submissions (public_id, account_id, type, parameters, status, action_id, submitted_at, idempotency_key_sha256, fingerprint) values (?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?)",
      [
        submission.publicId,
        submission.accountId,
        submission.type,
        JSON.stringify(submission.parameters),
        submission.actionId,
        submission.submittedAt,
        submission.idempotencyKeySha256,
        submission.fingerprint,
      ],
    );
    return {
      ...submission,
      id: Number(id),
      status: 'QUEUED',
      code: null,
      message: null,
      completedAt: null,
    };
  }

  /** An account's submission by its public id, or null. */
  async find(accountId: number, publicId: string): Promise<ApiSubmission | null> {
    const row = await this.knex('api_submissions').where({ account_id: accountId, public_id: publicId }).first();
    return row ? submissionFromRow(row) : null;
  }

  /** An account's submission stored under an idempotency key, or null. */
  async findByIdempotencyKey(accountId: number, keySha256: string): Promise<ApiSubmission | null> {
    const row = await this.knex('api_submissions')
      .where({ account_id: accountId, idempotency_key_sha256: keySha256 })
      .first();
    return row ? submissionFromRow(row) : null;
  }

  /** The oldest submissions not complete yet, in submission order. */
  async unfinished(limit: number): Promise<ApiSubmission[]> {
    const rows = await this.knex('api_submissions')
      .whereIn('status', ['QUEUED', 'IN_PROGRESS'])
      .orderBy('id')
      .limit(limit);
    return rows.map(submissionFromRow);
  }

  /** Marks queued submissions as being applied. */
  async markInProgress(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.knex('api_submissions')
      .whereIn('id', ids)
      .andWhere({ status: 'QUEUED' })
      .update({ status: 'IN_PROGRESS' });
  }

  /**
   * Records what became of a submission, inside the change's unit of work when `sql` is one; false when it
   * was complete already (another worker applied it).
   */
  async complete(id: number, result: SubmissionResult, sql: Pick<Sql, 'run'> = this.sql): Promise<boolean> {
    const { affectedRows } = await sql.run(
      "update api_submissions set status = 'COMPLETE', code = ?, message = ?, action_id = ?, completed_at = ? where id = ? and status <> 'COMPLETE'",
      [result.code, result.message.slice(0, MESSAGE_CHARS), result.actionId, result.completedAt, id],
    );
    return affectedRows === 1;
  }

  /**
   * `complete` for many submissions in one statement (a chunk applied in one unit of work, or its
   * refusals after it): how many took their result — fewer when some were complete already.
   */
  async completeMany(
    completions: Array<{ id: number; result: SubmissionResult }>,
    sql: Pick<Sql, 'run'> = this.sql,
  ): Promise<number> {
    if (completions.length === 0) return 0;
    // One UPDATE with a CASE per column: the same SQL on both engines, one round trip.
    const columns: Array<[string, (result: SubmissionResult) => string | number | null]> = [
      ['code', (result) => result.code],
      ['message', (result) => result.message.slice(0, MESSAGE_CHARS)],
      ['action_id', (result) => result.actionId],
      ['completed_at', (result) => result.completedAt],
    ];
    const bindings: Array<string | number | null> = [];
    const sets = columns.map(([column, value]) => {
      for (const { id, result } of completions) bindings.push(id, value(result));
      return `${column} = case id ${completions.map(() => 'when ? then ?').join(' ')} end`;
    });
    bindings.push(...completions.map(({ id }) => id));
    const { affectedRows } = await sql.run(
      `update api_submissions set status = 'COMPLETE', ${sets.join(', ')}
       where status <> 'COMPLETE' and id in (${completions.map(() => '?').join(', ')})`,
      bindings,
      { once: completions.length > 1 },
    );
    return affectedRows;
  }

  /** Counts submissions not complete yet. */
  async backlog(): Promise<number> {
    const [{ n }] = await this.knex('api_submissions').whereIn('status', ['QUEUED', 'IN_PROGRESS']).count({ n: '*' });
    return Number(n);
  }

  /**
   * Takes (or renews) the named lease for `owner` until `now + leaseMs`: true when `owner` holds it. One
   * holder at a time, so submissions on one action are applied in their order by one worker.
   */
  async claimLease(name: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    try {
      await this.knex('api_submission_leases').insert({ name, owner: null, expires_at: 0 });
    } catch (error) {
      if (classifyDatabaseError(error) !== 'duplicate_key') throw error;
    }
    const taken = await this.knex('api_submission_leases')
      .where({ name })
      .andWhere((q) => q.whereNull('owner').orWhere('owner', owner).orWhere('expires_at', '<=', now))
      .update({ owner, expires_at: now + leaseMs });
    return taken === 1;
  }

  /** Gives the lease up (when `owner` holds it). */
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.knex('api_submission_leases').where({ name, owner }).update({ owner: null, expires_at: 0 });
  }
}
