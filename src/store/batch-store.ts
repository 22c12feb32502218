import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AfterChange } from './after-change';
import type { RowResult } from '../core/row-result';
import type { RawParameter } from '../core/raw-parameter';
import { classifyDatabaseError } from './database-errors';
import type { Sql, SqlRunner } from './sql';

/** Where a batch stands. A duplicate that is not applied is `completed` with nothing processed. */
export type BatchState = 'queued' | 'processing' | 'completed' | 'failed';

/** Which kind of bulk file a batch is: LinkTrust's Lead Poster file, or an impact.com modifications file. */
export type BatchKind = 'lead-poster' | 'impact';

/**
 * The door a file came in by: the admin API, the console, an FTP or SFTP upload, a pull from the brand's
 * server, an e-mail.
 */
export type BatchChannel = 'api' | 'console' | 'ftp' | 'sftp' | 'pull' | 'email';

/** One uploaded modification file: its File Submissions line. */
export interface Batch {
  id: number;
  filename: string;
  channel: BatchChannel;
  /** The campaign an intake channel took the file in for: its rows touch only this campaign's transactions. Null: any. */
  campaignId: number | null;
  /**
   * The merchant the batch belongs to (uploaded by its console users, taken in by its intake credentials):
   * its rows touch only the merchant's campaigns as they are when the rows run. Null: none.
   */
  merchantId: number | null;
  /** Who sent the file through an intake channel (upload user, pull, e-mail sender); null for the admin doors. */
  submittedBy: string | null;
  contentSha256: string;
  kind: BatchKind;
  /** `tab` or `csv` for a Lead Poster file; `csv` or `xml` for an impact.com file. */
  format: 'tab' | 'csv' | 'xml';
  encoding: string;
  state: BatchState;
  /** Data rows in the file. */
  records: number;
  processed: number;
  succeeded: number;
  failed: number;
  /** The earlier batch with the same content, when this one is a re-upload. */
  duplicateOf: number | null;
  /** A re-upload applied anyway (`force=true`). */
  forced: boolean;
  /** The client IP the rows are checked against campaign whitelists with. */
  clientIp: string | null;
  /**
   * Why the batch failed as a whole, or why a completed one processed nothing (an impact.com file that is
   * neither .csv nor .xml) — not a row's message.
   */
  error: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/**
 * A batch to store. `kind` defaults to a Lead Poster file. A batch stored with an `error` (completed without
 * processing anything) does not claim its content, so the corrected file is not taken for a duplicate of it.
 */
export type NewBatch = Partial<
  Pick<Batch, 'kind' | 'error' | 'channel' | 'campaignId' | 'merchantId' | 'submittedBy'>
> &
  Pick<
    Batch,
    | 'filename'
    | 'contentSha256'
    | 'format'
    | 'encoding'
    | 'state'
    | 'records'
    | 'duplicateOf'
    | 'forced'
    | 'clientIp'
    | 'createdAt'
    | 'finishedAt'
  >;

/** A data row to store, or one waiting to be processed: its number and its pairs as read from the file. */
export interface BatchRow {
  rowNumber: number;
  parameters: RawParameter[];
}

/** Which batches `list` reads: a page, newest first, optionally narrowed. */
export interface BatchListOptions {
  limit: number;
  beforeId?: number;
  kind?: BatchKind;
  campaignIds?: number[];
  /** A merchant's batches: its own, and those of intakes of `campaignIds` when both are given. */
  merchantId?: number;
  createdFrom?: number;
  createdTo?: number;
}

/** Counts of a batch's rows. */
export interface BatchCounts {
  processed: number;
  succeeded: number;
  failed: number;
}

type Row = Record<string, unknown>;

/**
 * What makes a re-upload a duplicate: the content, among a merchant's own batches for a merchant's (another
 * merchant's file of the same bytes is neither refused as a duplicate nor named to it), else among the rest.
 */
function contentKeyOf(batch: Pick<NewBatch, 'contentSha256' | 'merchantId'>): string {
  const merchantId = batch.merchantId ?? null;
  if (merchantId === null) return batch.contentSha256;
  return crypto.createHash('sha256').update(`merchant ${merchantId}\n${batch.contentSha256}`).digest('hex');
}
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function batchFromRow(r: Row): Batch {
  return {
    id: Number(r.id),
    filename: String(r.filename),
    channel: (r.channel as BatchChannel | undefined) ?? 'api',
    campaignId: numOrNull(r.campaign_id),
    merchantId: numOrNull(r.merchant_id),
    submittedBy: (r.submitted_by as string | null | undefined) ?? null,
    contentSha256: String(r.content_sha256),
    kind: (r.kind as BatchKind | undefined) ?? 'lead-poster',
    format: r.format as Batch['format'],
    encoding: String(r.encoding),
    state: r.state as BatchState,
    records: Number(r.records),
    processed: Number(r.processed),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    duplicateOf: numOrNull(r.duplicate_of),
    forced: Boolean(r.forced),
    clientIp: (r.client_ip as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    createdAt: Number(r.created_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

const textOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));

function resultFromRow(r: Row, kind: BatchKind): RowResult {
  const result: RowResult = {
    rowNumber: Number(r.file_row),
    succeeded: Boolean(r.succeeded),
    message: String(r.message ?? ''),
    transactionId: String(r.transaction_id ?? ''),
    clickId: String(r.click_id ?? ''),
    merchantReferenceId: String(r.merchant_reference_id ?? ''),
    cid: String(r.cid ?? ''),
  };
  if (kind === 'lead-poster') return result;
  // An impact.com row echoes its Oid where a Lead Poster row echoes its MerchantreferenceID.
  return {
    ...result,
    code: textOrNull(r.code),
    actionId: textOrNull(r.action_id),
    oid: textOrNull(r.merchant_reference_id),
    actionTrackerId: textOrNull(r.action_tracker_id),
    sku: textOrNull(r.sku),
  };
}

/*
 * Rows and characters per INSERT: well under SQLite's 32,766 bound variables and, at up to 4 bytes a
 * character, MySQL's default max_allowed_packet (16 MB); large enough that 100,000 rows take about 100
 * statements.
 */
const INSERT_CHUNK_ROWS = 1000;
const INSERT_CHUNK_CHARS = 2 * 1024 * 1024;
/*
 * Longest value kept for a row. Every column's valid values are far shorter (REASON 255, identifiers
 * 255, Password 72 bytes), so a longer value gets the same refusal cut or not — and one giant cell
 * cannot outgrow a MySQL packet.
 */
const MAX_VALUE_CHARS = 65_536;
/* Rows per result UPDATE (19 bound values each). */
const RESULT_CHUNK = 200;
/*
 * An echoed identifier is kept whole up to this many characters: a TEXT column holds 65,535 bytes,
 * i.e. 16,383 characters of 4-byte UTF-8. A longer "identifier" never names a transaction anyway.
 */
const MAX_ECHO_CHARS = 16_000;
const echo = (value: string) => (value.length > MAX_ECHO_CHARS ? value.slice(0, MAX_ECHO_CHARS) : value);
const echoOrNull = (value: string | null | undefined) => (value === null || value === undefined ? null : echo(value));
/* The code column holds 64 characters; every code of the impact.com table is shorter. */
const codeOrNull = (value: string | null | undefined) =>
  value === null || value === undefined ? null : value.slice(0, 64);

const isPassword = (parameter: RawParameter) => parameter.name.toLowerCase() === 'password';
const capped = (value: string) => (value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value);

/**
 * Inserts a file's rows, slice by slice as they come, in multi-row INSERTs; the Password apart from the
 * other pairs. Only one slice's statement is built at a time, so a large file is never held whole here.
 * The INSERTs are prepared statements (no escaping of 100,000 JSON strings into SQL text); as a
 * connection keeps each one it prepares, they come in few shapes: a full chunk, then powers of two
 * (734 rows: 512 + 128 + 64 + 16 + 8 + 4 + 2).
 */
async function insertRows(
  sql: Pick<Sql, 'run'>,
  batchId: number,
  slices: Iterable<BatchRow[]> | AsyncIterable<BatchRow[]>,
): Promise<void> {
  let bindings: Array<string | number | null> = [];
  let chars = 0;
  const flush = async () => {
    const count = bindings.length / 4;
    for (let done = 0; done < count;) {
      const rows = count - done >= INSERT_CHUNK_ROWS ? INSERT_CHUNK_ROWS : 2 ** Math.floor(Math.log2(count - done));
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ');
      await sql.run(
        `insert into batch_rows (batch_id, file_row, parameters, password) values ${values}`,
        bindings.slice(done * 4, (done + rows) * 4),
      );
      done += rows;
    }
    [bindings, chars] = [[], 0];
  };
  for await (const rows of slices) {
    for (const row of rows) {
      const parameters = JSON.stringify(
        row.parameters.filter((p) => !isPassword(p)).map((p) => ({ name: p.name, value: capped(p.value) })),
      );
      const password = row.parameters.find(isPassword)?.value;
      const passwordValue = password === undefined ? null : capped(password);
      const size = parameters.length + (passwordValue?.length ?? 0);
      if (bindings.length / 4 >= INSERT_CHUNK_ROWS || chars + size > INSERT_CHUNK_CHARS) await flush();
      bindings.push(batchId, row.rowNumber, parameters, passwordValue);
      chars += size;
    }
    await flush();
  }
}

/**
 * Batches and their rows. A row's result is written once: every write of a result is conditional on
 * the row having none yet, and a success is written inside the change's own database transaction — so
 * whatever happens to a worker, a row is never applied twice.
 */
export class BatchStore {
  private readonly sql: SqlRunner;

  /** `sql`: the composition root's statement runner (a chunk's rows are written through it). */
  constructor(
    private readonly knex: Knex,
    sql: SqlRunner,
  ) {
    this.sql = sql;
  }

  /**
   * Stores a batch and its rows in one database transaction, so no worker sees half a file. A batch
   * without `duplicateOf` claims its content: when an earlier batch holds the same content already,
   * nothing is stored (the rows are not even read) and the earlier batch's id comes back instead.
   * The rows come in slices — read from the file while they are inserted — and an error in reading
   * them rolls the whole batch back. `afterChange` (the console's audit row) runs in the same transaction,
   * with the batch's id.
   */
  async create(
    batch: NewBatch,
    rows: Iterable<BatchRow[]> | AsyncIterable<BatchRow[]>,
    afterChange?: AfterChange<number>,
  ): Promise<{ batch: Batch } | { originalId: number }> {
    try {
      const id = await this.sql.transaction(async (sql) => {
        const { insertId: batchId } = await sql.write(
          this.knex('batches').insert({
            filename: batch.filename,
            content_sha256: batch.contentSha256,
            content_key: batch.duplicateOf === null && !batch.error ? contentKeyOf(batch) : null,
            kind: batch.kind ?? 'lead-poster',
            channel: batch.channel ?? 'api',
            campaign_id: batch.campaignId ?? null,
            merchant_id: batch.merchantId ?? null,
            submitted_by: batch.submittedBy ?? null,
            format: batch.format,
            encoding: batch.encoding,
            state: batch.state,
            records: batch.records,
            duplicate_of: batch.duplicateOf,
            forced: batch.forced,
            client_ip: batch.clientIp,
            created_at: batch.createdAt,
            finished_at: batch.finishedAt,
            error: batch.error ?? null,
          }),
        );
        await insertRows(sql, batchId, rows);
        await afterChange?.(sql, batchId);
        return batchId;
      });
      return { batch: (await this.get(id)) as Batch };
    } catch (error) {
      if (
        batch.duplicateOf === null &&
        classifyDatabaseError(error) === 'duplicate_key' &&
        /content_key/.test(String((error as Error).message))
      ) {
        const original = await this.knex('batches')
          .where({ content_key: contentKeyOf(batch) })
          .first('id');
        if (original) return { originalId: Number(original.id) };
      }
      throw error;
    }
  }

  /** One batch, or null. */
  async get(id: number): Promise<Batch | null> {
    const row = await this.knex('batches').where({ id }).first();
    return row ? batchFromRow(row) : null;
  }

  /** Batches queued or being processed, oldest first (the dashboard's progress bars). */
  async active(limit: number): Promise<Batch[]> {
    const rows = await this.knex('batches').whereIn('state', ['queued', 'processing']).orderBy('id').limit(limit);
    return rows.map(batchFromRow);
  }

  /**
   * Batches, newest first; `beforeId` pages back. `kind` and `campaignIds` narrow them (an empty list of
   * campaigns: none), `merchantId` to a merchant's (its own, or of intakes of `campaignIds`), `createdFrom`/`createdTo` (epoch ms, inclusive) bound their creation time.
   */
  async list(options: BatchListOptions): Promise<Batch[]> {
    const { merchantId, campaignIds } = options;
    if (merchantId === undefined && campaignIds?.length === 0) return [];
    const query = this.knex('batches').orderBy('id', 'desc').limit(options.limit);
    if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
    if (options.kind !== undefined) query.where('kind', options.kind);
    if (merchantId !== undefined)
      query.where((mine) => {
        mine.where('merchant_id', merchantId);
        if (campaignIds !== undefined && campaignIds.length > 0) mine.orWhereIn('campaign_id', campaignIds);
      });
    else if (campaignIds !== undefined) query.whereIn('campaign_id', campaignIds);
    if (options.createdFrom !== undefined) query.where('created_at', '>=', options.createdFrom);
    if (options.createdTo !== undefined) query.where('created_at', '<=', options.createdTo);
    return (await query).map(batchFromRow);
  }

  /**
   * Takes the oldest queued or unfinished batch whose lease is free or expired, for `leaseMs`. The take is
   * a compare-and-set UPDATE, so two workers (processes, nodes) never both win one batch — on MySQL/MariaDB
   * and on SQLite alike, without engine-specific locking.
   */
  async claimNext(owner: string, now: number, leaseMs: number): Promise<Batch | null> {
    const candidates = await this.knex('batches')
      .whereIn('state', ['queued', 'processing'])
      .andWhere((q) => q.whereNull('lease_expires_at').orWhere('lease_expires_at', '<', now))
      .orderBy('id')
      .limit(5)
      .select('id');
    for (const { id } of candidates) {
      const taken = await this.knex('batches')
        .where({ id })
        .whereIn('state', ['queued', 'processing'])
        .andWhere((q) => q.whereNull('lease_expires_at').orWhere('lease_expires_at', '<', now))
        .update({
          state: 'processing',
          lease_owner: owner,
          lease_expires_at: now + leaseMs,
          started_at: this.knex.raw('coalesce(started_at, ?)', [now]),
        });
      if (taken === 1) return this.get(Number(id));
    }
    return null;
  }

  /** Extends the lease; false when another worker has taken the batch over. */
  async renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const kept = await this.knex('batches')
      .where({ id, lease_owner: owner, state: 'processing' })
      .update({ lease_expires_at: now + leaseMs });
    return kept === 1;
  }

  /** Gives the batch back unfinished, so any worker may resume it at once. */
  async releaseLease(id: number, owner: string): Promise<void> {
    await this.knex('batches').where({ id, lease_owner: owner }).update({ lease_owner: null, lease_expires_at: null });
  }

  /** Counts of processed, succeeded and failed rows, and how many are still waiting, from the rows themselves. */
  async countRows(sql: Sql, id: number): Promise<BatchCounts & { waiting: number }> {
    const groups = await sql.select(
      this.knex('batch_rows')
        .where({ batch_id: id })
        .groupBy('succeeded')
        .select('succeeded', this.knex.raw('count(*) as n')),
    );
    const counts = { processed: 0, succeeded: 0, failed: 0, waiting: 0 };
    for (const group of groups as Row[]) {
      const n = Number(group.n);
      if (group.succeeded === null) counts.waiting += n;
      else if (Boolean(group.succeeded)) counts.succeeded += n;
      else counts.failed += n;
    }
    counts.processed = counts.succeeded + counts.failed;
    return counts;
  }

  /** Sets the batch's counts from its rows (a worker taking over a batch another left mid-way). */
  async syncCounts(id: number, owner: string): Promise<BatchCounts & { waiting: number }> {
    const counts = await this.countRows(this.sql.alone, id);
    await this.knex('batches')
      .where({ id, lease_owner: owner })
      .update({ processed: counts.processed, succeeded: counts.succeeded, failed: counts.failed });
    return counts;
  }

  /** Adds a chunk's results to the counts while the lease is held; false when it is not. */
  async addCounts(id: number, owner: string, delta: BatchCounts): Promise<boolean> {
    const kept = await this.knex('batches')
      .where({ id, lease_owner: owner })
      .update({
        processed: this.knex.raw('processed + ?', [delta.processed]),
        succeeded: this.knex.raw('succeeded + ?', [delta.succeeded]),
        failed: this.knex.raw('failed + ?', [delta.failed]),
      });
    return kept === 1;
  }

  /** Up to `limit` rows without a result after `afterRow`, in file order, with their Password. */
  async waitingRows(id: number, afterRow: number, limit: number): Promise<BatchRow[]> {
    const rows = await this.knex('batch_rows')
      .where({ batch_id: id })
      .andWhere('file_row', '>', afterRow)
      .whereNull('succeeded')
      .orderBy('file_row')
      .limit(limit)
      .select('file_row', 'parameters', 'password');
    return rows.map((r: Row) => {
      const parameters = JSON.parse(String(r.parameters)) as RawParameter[];
      if (r.password !== null && r.password !== undefined)
        parameters.push({ name: 'Password', value: String(r.password) });
      return { rowNumber: Number(r.file_row), parameters };
    });
  }

  /**
   * Records a row that was applied, inside the change's unit of work. False when the row has a result
   * already (another worker got there first): the caller must then roll the change back. The Password is
   * erased with it.
   */
  async recordSuccess(sql: Sql, batchId: number, result: RowResult): Promise<boolean> {
    return (await this.recordResults(sql, batchId, [result], true)) === 1;
  }

  /** Records applied rows inside their unit of work; false when any of them has a result already. */
  async recordSuccesses(sql: Sql, batchId: number, results: RowResult[]): Promise<boolean> {
    return (await this.recordResults(sql, batchId, results, true)) === results.length;
  }

  /** Records rows that were not applied (a row with a result already keeps it), erasing their Password. */
  async recordFailures(batchId: number, results: RowResult[]): Promise<void> {
    await this.recordResults(this.sql, batchId, results, false);
  }

  /** Writes results of rows still without one; returns how many rows took theirs. */
  private async recordResults(
    sql: Pick<Sql, 'run'>,
    batchId: number,
    results: RowResult[],
    succeeded: boolean,
  ): Promise<number> {
    let recorded = 0;
    for (let start = 0; start < results.length; start += RESULT_CHUNK) {
      const chunk = results.slice(start, start + RESULT_CHUNK);
      // One UPDATE per chunk with CASE per column: the same SQL on both engines, one round trip.
      const columns: Array<[string, (r: RowResult) => string | null]> = [
        ['message', (r) => r.message],
        ['transaction_id', (r) => echo(r.transactionId)],
        ['click_id', (r) => echo(r.clickId)],
        // An impact.com row's Oid is its merchant reference (NULL when the row gave none).
        ['merchant_reference_id', (r) => (r.oid !== undefined ? echoOrNull(r.oid) : echo(r.merchantReferenceId))],
        ['cid', (r) => echo(r.cid)],
        ['code', (r) => codeOrNull(r.code)],
        ['action_id', (r) => echoOrNull(r.actionId)],
        ['action_tracker_id', (r) => echoOrNull(r.actionTrackerId)],
        ['sku', (r) => echoOrNull(r.sku)],
      ];
      const bindings: Array<string | number | null> = [];
      const sets = columns.map(([column, value]) => {
        for (const r of chunk) bindings.push(r.rowNumber, value(r));
        return `${column} = case file_row ${chunk.map(() => 'when ? then ?').join(' ')} end`;
      });
      bindings.push(batchId, ...chunk.map((r) => r.rowNumber));
      const { affectedRows } = await sql.run(
        `update batch_rows set succeeded = ${succeeded ? 1 : 0}, password = null, ${sets.join(', ')}
         where batch_id = ? and succeeded is null and file_row in (${chunk.map(() => '?').join(', ')})`,
        bindings,
        { once: chunk.length > 1 },
      );
      recorded += affectedRows;
    }
    return recorded;
  }

  /**
   * Marks the batch completed with its final counts, taken from its rows. Refused while a row is still
   * waiting (`rows_waiting`) or when the lease has passed to another worker (`not_owner`).
   */
  async complete(id: number, owner: string, now: number): Promise<'completed' | 'rows_waiting' | 'not_owner'> {
    return this.sql.transaction(async (sql) => {
      const counts = await this.countRows(sql, id);
      if (counts.waiting > 0) return 'rows_waiting';
      const done = await sql.write(
        this.knex('batches').where({ id, lease_owner: owner }).update({
          state: 'completed',
          processed: counts.processed,
          succeeded: counts.succeeded,
          failed: counts.failed,
          finished_at: now,
          lease_owner: null,
          lease_expires_at: null,
        }),
      );
      return done.affectedRows === 1 ? 'completed' : 'not_owner';
    });
  }

  /**
   * Marks the batch failed as a whole. It gives up its content, so the same file may be uploaded again
   * and applied; the Passwords of rows never processed are erased.
   */
  async fail(id: number, reason: string, now: number): Promise<void> {
    await this.sql.transaction(async (sql) => {
      await sql.write(
        this.knex('batches')
          .where({ id })
          .update({
            state: 'failed',
            error: reason.slice(0, 1024),
            content_key: null,
            finished_at: now,
            lease_owner: null,
            lease_expires_at: null,
          }),
      );
      await sql.write(
        this.knex('batch_rows').where({ batch_id: id }).whereNotNull('password').update({ password: null }),
      );
    });
  }

  /** Rows of queued and running batches still without a result (from the batches' counts: no row scan). */
  async pendingRows(): Promise<number> {
    const row = await this.knex('batches')
      .whereIn('state', ['queued', 'processing'])
      .first(this.knex.raw('coalesce(sum(records - processed), 0) as n'));
    return Number((row as Row | undefined)?.n ?? 0);
  }

  /**
   * How many processed rows of each batch got each impact.com code, most frequent first (rows without a
   * code — Lead Poster rows, rows still waiting — are not counted).
   */
  async codeCounts(batchIds: number[]): Promise<Map<number, Array<{ code: string; count: number }>>> {
    const counts = new Map<number, Array<{ code: string; count: number }>>();
    if (batchIds.length === 0) return counts;
    const rows = await this.knex('batch_rows')
      .whereIn('batch_id', batchIds)
      .whereNotNull('code')
      .groupBy('batch_id', 'code')
      .select('batch_id', 'code', this.knex.raw('count(*) as n'));
    for (const row of rows as Row[]) {
      const id = Number(row.batch_id);
      const list = counts.get(id) ?? [];
      list.push({ code: String(row.code), count: Number(row.n) });
      counts.set(id, list);
    }
    for (const list of counts.values()) list.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
    return counts;
  }

  /**
   * Results of processed rows after `afterRow`, in file order (a page of the results file); `failedOnly`:
   * the refused rows alone.
   */
  async results(id: number, afterRow: number, limit: number, failedOnly = false): Promise<RowResult[]> {
    const batch = await this.knex('batches').where({ id }).first('kind');
    const kind = (batch?.kind as BatchKind | undefined) ?? 'lead-poster';
    const rows = await this.knex('batch_rows')
      .where({ batch_id: id })
      .andWhere('file_row', '>', afterRow)
      .modify((query) => (failedOnly ? query.where('succeeded', false) : query.whereNotNull('succeeded')))
      .orderBy('file_row')
      .limit(limit)
      .select(
        'file_row',
        'succeeded',
        'message',
        'transaction_id',
        'click_id',
        'merchant_reference_id',
        'cid',
        'code',
        'action_id',
        'action_tracker_id',
        'sku',
      );
    return rows.map((row: Row) => resultFromRow(row, kind));
  }
}
