import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';

/** One change made through the console: who, when, what. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  /** What was done, e.g. `campaign.settings`, `whitelist.add`, `postback.retry`. */
  action: string;
  /** What it was done to, e.g. `campaign 100`; null for global actions. */
  target: string | null;
  /** What changed (never a password or token). */
  details: Record<string, unknown> | null;
  clientIp: string | null;
  requestId: string | null;
}

/** An entry to append. */
export type NewAuditEntry = Omit<AuditEntry, 'id'>;

type Row = Record<string, unknown>;

function parseDetails(text: unknown): Record<string, unknown> | null {
  if (typeof text !== 'string' || text === '') return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function entryFromRow(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    at: Number(r.at),
    actor: String(r.actor),
    action: String(r.action),
    target: (r.target as string | null) ?? null,
    details: parseDetails(r.details),
    clientIp: (r.client_ip as string | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
  };
}

/** The console's append-only audit log. */
export class ConsoleAuditStore {
  constructor(private readonly knex: Knex) {}

  /** Appends an entry (inside the change's own unit of work, or alone); returns its id. */
  async append(sql: Sql, entry: NewAuditEntry): Promise<number> {
    const { insertId } = await sql.write(
      this.knex('console_audit').insert({
        at: entry.at,
        actor: entry.actor.slice(0, 64),
        action: entry.action,
        target: entry.target?.slice(0, 255) ?? null,
        details: entry.details ? JSON.stringify(entry.details) : null,
        client_ip: entry.clientIp,
        request_id: entry.requestId,
      }),
    );
    return insertId;
  }

  /** Entries newest first, optionally older than `beforeId` (paging). */
  async list(options: { limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    const query = this.knex('console_audit').orderBy('id', 'desc').limit(options.limit);
    if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
    return (await query).map(entryFromRow);
  }
}
