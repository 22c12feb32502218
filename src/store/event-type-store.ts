import type { Knex } from 'knex';
import type { DispositionCode, DispositionEffect, EventType, PayoutRule } from '../core/event-type';
import { moneyFromColumn, moneyToColumn } from '../core/money';
import type { Engine } from './database';
import type { Sql } from './unit-of-work';
import { onPool, readerOf, type Reader } from './sql';

/** What creating an event type writes (settings already validated); `id` kept when given. */
export interface EventTypeInput {
  id?: number;
  campaignId: number;
  name: string;
  lockingDays: number;
  payout: PayoutRule;
  dispositionCodes: DispositionCode[];
}

/** What an update may change; `dispositionCodes` replaces the whole list. */
export type EventTypeChanges = Partial<Pick<EventTypeInput, 'name' | 'lockingDays' | 'payout' | 'dispositionCodes'>>;

/** An event_types row as either engine returns it. */
interface EventTypeRow {
  id: number;
  campaign_id: number;
  name: string;
  locking_days: number;
  payout_type: string;
  payout_value: number | string | bigint;
  created_at: number | string;
  updated_at: number | string;
}

interface CodeRow {
  event_type_id: number;
  code: string;
  effect: string;
  position: number;
}

function eventTypeFromRow(row: EventTypeRow, codes: CodeRow[]): EventType {
  const value = moneyFromColumn(row.payout_value);
  return {
    id: Number(row.id),
    campaignId: Number(row.campaign_id),
    name: row.name,
    lockingDays: Number(row.locking_days),
    payout: row.payout_type === 'fixed' ? { type: 'fixed', value } : { type: 'percent', value },
    dispositionCodes: codes.map((c) => ({ code: c.code, effect: c.effect as DispositionEffect })),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function settingColumns(changes: EventTypeChanges): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  if (changes.name !== undefined) columns.name = changes.name;
  if (changes.lockingDays !== undefined) columns.locking_days = changes.lockingDays;
  if (changes.payout !== undefined) {
    columns.payout_type = changes.payout.type;
    columns.payout_value = moneyToColumn(changes.payout.value);
  }
  return columns;
}

/** Reads and writes event types (impact ActionTrackerIds) and their custom disposition codes. */
export class EventTypeStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Inserts an event type and its codes inside the caller's unit of work, keeping a supplied id. */
  async create(sql: Sql, input: EventTypeInput, now: number): Promise<EventType> {
    const { insertId } = await sql.write(
      this.knex('event_types').insert({
        ...(input.id ? { id: input.id } : {}),
        campaign_id: input.campaignId,
        ...settingColumns(input),
        created_at: now,
        updated_at: now,
      }),
    );
    const id = input.id ?? insertId;
    await this.insertCodes(sql, id, input.dispositionCodes);
    const created = await this.getIn(sql, id);
    if (!created) throw new Error('event type vanished after insert');
    return created;
  }

  /** One event type with its codes, or null. */
  get(id: number): Promise<EventType | null> {
    return this.read(onPool, id);
  }

  /** One event type with its codes, or null, read inside a unit of work. */
  getIn(sql: Sql, id: number): Promise<EventType | null> {
    return this.read(readerOf(sql), id);
  }

  private async read(read: Reader, id: number): Promise<EventType | null> {
    const [row] = await read<EventTypeRow>(this.knex('event_types').where({ id }).limit(1));
    if (!row) return null;
    const codes = await read<CodeRow>(
      this.knex('event_type_disposition_codes').where({ event_type_id: id }).orderBy('position'),
    );
    return eventTypeFromRow(row, codes);
  }

  /** Locks the event type's row for the rest of the transaction (MySQL/MariaDB; SQLite serialises writers). */
  async existsForUpdate(sql: Sql, id: number): Promise<boolean> {
    const query = this.knex('event_types').select('id').where({ id }).first();
    return (await sql.select(this.engine === 'mysql' ? query.forUpdate() : query)).length > 0;
  }

  /** Event types ordered by id, optionally of one campaign, each with its codes (two queries in all). */
  async list(filter: { campaignId?: number; limit: number }): Promise<EventType[]> {
    const query = this.knex('event_types').orderBy('id').limit(filter.limit);
    if (filter.campaignId !== undefined) query.where({ campaign_id: filter.campaignId });
    const rows: EventTypeRow[] = await query;
    if (rows.length === 0) return [];
    const codes: CodeRow[] = await this.knex('event_type_disposition_codes')
      .whereIn(
        'event_type_id',
        rows.map((r) => r.id),
      )
      .orderBy(['event_type_id', 'position']);
    const byType = new Map<number, CodeRow[]>();
    for (const code of codes) {
      const list = byType.get(Number(code.event_type_id)) ?? [];
      list.push(code);
      byType.set(Number(code.event_type_id), list);
    }
    return rows.map((row) => eventTypeFromRow(row, byType.get(Number(row.id)) ?? []));
  }

  /**
   * Applies changes inside the caller's unit of work (which locked the row); given codes replace the old
   * list. Returns the updated type, or null when it does not exist.
   */
  async update(sql: Sql, id: number, changes: EventTypeChanges, now: number): Promise<EventType | null> {
    const { affectedRows } = await sql.write(
      this.knex('event_types')
        .where({ id })
        .update({ ...settingColumns(changes), updated_at: now }),
    );
    if (affectedRows === 0) return null;
    if (changes.dispositionCodes !== undefined) {
      await sql.write(this.knex('event_type_disposition_codes').where({ event_type_id: id }).delete());
      await this.insertCodes(sql, id, changes.dispositionCodes);
    }
    return this.getIn(sql, id);
  }

  private async insertCodes(sql: Sql, id: number, codes: DispositionCode[]): Promise<void> {
    if (codes.length === 0) return;
    await sql.write(
      this.knex('event_type_disposition_codes').insert(
        codes.map((c, position) => ({ event_type_id: id, code: c.code, effect: c.effect, position })),
      ),
    );
  }
}
