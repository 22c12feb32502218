import type { Knex } from 'knex';
import type { Engine } from './database';
import { writeStatement, type Sql, type SqlRunner } from './sql';
import { AfterChange, withAfterChange } from './after-change';

/** Where a delivery stands. */
export type PostbackStatus = 'pending' | 'delivered' | 'failed';

/** One requested postback (the outbox row). */
export interface PostbackDelivery {
  id: number;
  postbackId: string;
  transactionId: number;
  modificationId: number;
  affiliateId: number;
  url: string;
  status: PostbackStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** One HTTP attempt at a delivery. */
export interface PostbackAttempt {
  id: number;
  deliveryId: number;
  attempt: number;
  startedAt: number;
  url: string;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  worker: string;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function deliveryFromRow(r: Row): PostbackDelivery {
  return {
    id: num(r.id),
    postbackId: String(r.postback_id),
    transactionId: num(r.transaction_id),
    modificationId: num(r.modification_id),
    affiliateId: num(r.affiliate_id),
    url: String(r.url),
    status: r.status as PostbackStatus,
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function attemptFromRow(r: Row): PostbackAttempt {
  return {
    id: num(r.id),
    deliveryId: num(r.delivery_id),
    attempt: num(r.attempt),
    startedAt: num(r.started_at),
    url: String(r.url),
    httpStatus: numOrNull(r.http_status),
    error: (r.error as string | null) ?? null,
    durationMs: num(r.duration_ms),
    worker: String(r.worker),
  };
}

/** What a finished attempt decided for its delivery. */
export interface AttemptOutcome {
  status: PostbackStatus;
  nextAttemptAt: number;
  error: string | null;
}

const ENQUEUE =
  'insert into postback_deliveries (postback_id, transaction_id, modification_id, affiliate_id, url, status, attempts, ' +
  "next_attempt_at, created_at, updated_at) values (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)";

/** A delivery to queue with its change. */
export interface NewDelivery {
  postbackId: string;
  transactionId: number;
  modificationId: number;
  affiliateId: number;
  url: string;
  now: number;
}

/** How much the outbox holds: deliveries waiting and given up, and when the oldest waiting one was queued. */
export interface OutboxBacklog {
  pending: number;
  failed: number;
  oldestPendingCreatedAt: number | null;
}

/** The postback outbox tables. The only SQL for postbacks. */
export class PostbackStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
    private readonly units: Pick<SqlRunner, 'transaction'>,
  ) {}

  /**
   * Adds deliveries inside the changes' own database transaction: one round trip for all of them (a
   * chunk of a batch file may queue a thousand). `commit`: they are the unit of work's last statements.
   */
  async enqueueMany(sql: Sql, deliveries: NewDelivery[], options: { commit?: boolean } = {}): Promise<void> {
    if (deliveries.length === 0) return;
    await sql.all(
      deliveries.map((d) =>
        writeStatement(ENQUEUE, [
          d.postbackId,
          d.transactionId,
          d.modificationId,
          d.affiliateId,
          d.url,
          d.now,
          d.now,
          d.now,
        ]),
      ),
      { commit: options.commit },
    );
  }

  /** The affiliates' postback URL templates (null: none), read in one statement. */
  async templatesFor(sql: Sql, affiliateIds: number[]): Promise<Map<number, string | null>> {
    const templates = new Map<number, string | null>(affiliateIds.map((id) => [id, null]));
    if (affiliateIds.length === 0) return templates;
    const rows = await sql.rows<{ id: number | string; postback_url: string | null }>(
      `select id, postback_url from affiliates where id in (${affiliateIds.map(() => '?').join(', ')})`,
      affiliateIds,
      // One shape per count of affiliates: not worth keeping prepared.
      { once: affiliateIds.length > 1 },
    );
    for (const row of rows) templates.set(Number(row.id), row.postback_url ? String(row.postback_url) : null);
    return templates;
  }

  /**
   * Leases up to `limit` due deliveries to `worker` until `now + leaseMs`. A lease that outlived its
   * worker (crash, kill -9) has expired and is taken over. On MySQL/MariaDB `FOR UPDATE SKIP LOCKED`
   * lets several workers claim at once without waiting on, or taking, each other's rows; SQLite has a
   * single writer, so the select-then-update inside one transaction is already exclusive.
   */
  async claimDue(worker: string, now: number, leaseMs: number, limit: number): Promise<PostbackDelivery[]> {
    return this.units.transaction(async (sql) => {
      const query = this.knex('postback_deliveries')
        .select('id')
        .where('status', 'pending')
        .andWhere('next_attempt_at', '<=', now)
        .andWhere((q) => q.whereNull('lease_expires_at').orWhere('lease_expires_at', '<', now))
        .orderBy('next_attempt_at')
        .limit(limit);
      const rows = await sql.select<Row>(this.engine === 'mysql' ? query.forUpdate().skipLocked() : query);
      const ids = rows.map((r) => num(r.id));
      if (ids.length === 0) return [];
      await sql.write(
        this.knex('postback_deliveries')
          .whereIn('id', ids)
          .update({ lease_owner: worker, lease_expires_at: now + leaseMs, updated_at: now }),
      );
      const claimed = await sql.select<Row>(
        this.knex('postback_deliveries').whereIn('id', ids).orderBy('next_attempt_at'),
      );
      return claimed.map(deliveryFromRow);
    });
  }

  /**
   * Records an attempt and its consequence, in one transaction. The delivery only changes while the
   * worker still holds the lease for the same attempt slot; a worker whose lease was taken over still
   * logs what it did, but cannot overwrite the newer owner's state.
   */
  async recordAttempt(
    delivery: PostbackDelivery,
    worker: string,
    attempt: Omit<PostbackAttempt, 'id' | 'deliveryId' | 'attempt' | 'worker'>,
    outcome: AttemptOutcome,
    now: number,
  ): Promise<boolean> {
    return this.units.transaction(async (sql) => {
      await sql.write(
        this.knex('postback_attempts').insert({
          delivery_id: delivery.id,
          attempt: delivery.attempts + 1,
          started_at: attempt.startedAt,
          url: attempt.url,
          http_status: attempt.httpStatus,
          error: attempt.error?.slice(0, 1024) ?? null,
          duration_ms: Math.round(attempt.durationMs),
          worker,
        }),
      );
      const updated = await sql.write(
        this.knex('postback_deliveries')
          .where({ id: delivery.id, lease_owner: worker, attempts: delivery.attempts })
          .update({
            attempts: delivery.attempts + 1,
            status: outcome.status,
            next_attempt_at: outcome.nextAttemptAt,
            last_error: outcome.error?.slice(0, 1024) ?? null,
            lease_owner: null,
            lease_expires_at: null,
            updated_at: now,
            finished_at: outcome.status === 'pending' ? null : now,
          }),
      );
      return updated.affectedRows > 0;
    });
  }

  /** Deliveries, newest first, optionally of one transaction and/or status. */
  async list(filter: {
    transactionId?: number;
    status?: PostbackStatus;
    /** Only deliveries tried at least once (true) or never (false). */
    attempted?: boolean;
    limit?: number;
  }): Promise<PostbackDelivery[]> {
    const query = this.knex('postback_deliveries')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 200);
    if (filter.attempted !== undefined) query.where('attempts', filter.attempted ? '>' : '=', 0);
    if (filter.transactionId !== undefined) query.where({ transaction_id: filter.transactionId });
    if (filter.status !== undefined) query.where({ status: filter.status });
    return (await query).map(deliveryFromRow);
  }

  /** Counts of pending and failed deliveries (delivered ones are not counted: they only grow). */
  async backlog(): Promise<OutboxBacklog> {
    const rows: Row[] = await this.knex('postback_deliveries')
      .whereIn('status', ['pending', 'failed'])
      .groupBy('status')
      .select('status')
      .count({ count: '*' })
      .min({ oldest: 'created_at' });
    const of = (status: PostbackStatus) => rows.find((row) => row.status === status);
    const pending = of('pending');
    return {
      pending: pending ? num(pending.count) : 0,
      failed: num(of('failed')?.count ?? 0),
      oldestPendingCreatedAt: pending ? numOrNull(pending.oldest) : null,
    };
  }

  /** One delivery, or null. */
  async get(id: number): Promise<PostbackDelivery | null> {
    const row = await this.knex('postback_deliveries').where({ id }).first();
    return row ? deliveryFromRow(row) : null;
  }

  /** Attempts of the given deliveries, oldest first. */
  async attemptsFor(deliveryIds: number[]): Promise<PostbackAttempt[]> {
    if (deliveryIds.length === 0) return [];
    return (await this.knex('postback_attempts').whereIn('delivery_id', deliveryIds).orderBy('id')).map(attemptFromRow);
  }

  /** Puts a failed delivery back in the queue, due now; false when it is not failed. */
  async requeueFailed(id: number, now: number, afterChange?: AfterChange<void>): Promise<boolean> {
    const requeue = async (sql: Sql) =>
      (
        await sql.write(
          this.knex('postback_deliveries').where({ id, status: 'failed' }).update({
            status: 'pending',
            next_attempt_at: now,
            finished_at: null,
            lease_owner: null,
            lease_expires_at: null,
            updated_at: now,
          }),
        )
      ).affectedRows > 0;
    // `afterChange` (the console's audit row) commits with the requeue, and only when there was one.
    return withAfterChange(
      this.units,
      requeue,
      afterChange && (async (sql, requeued) => (requeued ? afterChange(sql) : undefined)),
    );
  }
}
