import type { Knex } from 'knex';
import { AfterChange, withAfterChange } from './after-change';
import type { Sql, SqlRunner } from './sql';

/** How a console session was opened; rechecked against the config on every request. */
export type SignInMethod = 'token' | 'user' | 'merchant';

/** A signed-in console session, as stored (the cookie value itself is never stored). */
export interface ConsoleSession {
  /** SHA-256 (hex) of the cookie value. */
  idHash: string;
  actor: string;
  method: SignInMethod;
  /** Per-session token every console form carries. */
  csrfToken: string;
  clientIp: string | null;
  /** The merchant user who opened it (method `merchant`), else null. */
  userId: number | null;
  createdAt: number;
  expiresAt: number;
}

type Row = Record<string, unknown>;

function sessionFromRow(r: Row): ConsoleSession {
  return {
    idHash: String(r.id_hash),
    actor: String(r.actor),
    method: r.method === 'user' || r.method === 'merchant' ? r.method : 'token',
    csrfToken: String(r.csrf_token),
    clientIp: (r.client_ip as string | null) ?? null,
    userId: r.user_id === null || r.user_id === undefined ? null : Number(r.user_id),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

/** Console sessions in the database, so every node behind a load balancer sees the same ones. */
export class ConsoleSessionStore {
  constructor(
    private readonly knex: Knex,
    private readonly units: Pick<SqlRunner, 'transaction'>,
  ) {}

  /** Stores a new session. */
  async create(session: ConsoleSession, afterChange?: AfterChange<void>): Promise<void> {
    await withAfterChange(this.units, (sql) => this.insert(sql, session), afterChange);
  }

  private async insert(sql: Sql, session: ConsoleSession): Promise<void> {
    await sql.write(
      this.knex('console_sessions').insert({
        id_hash: session.idHash,
        actor: session.actor,
        method: session.method,
        csrf_token: session.csrfToken,
        client_ip: session.clientIp,
        user_id: session.userId,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      }),
    );
  }

  /** The session with this id hash, unless it has expired. */
  async findActive(idHash: string, now: number): Promise<ConsoleSession | null> {
    const row = await this.knex('console_sessions').where({ id_hash: idHash }).andWhere('expires_at', '>', now).first();
    return row ? sessionFromRow(row) : null;
  }

  /** Ends one session. */
  async delete(idHash: string, afterChange?: AfterChange<void>): Promise<void> {
    await withAfterChange(
      this.units,
      async (sql) => void (await sql.write(this.knex('console_sessions').where({ id_hash: idHash }).delete())),
      afterChange,
    );
  }

  /** Ends every session a merchant user opened (inside the unit that disables it); returns how many. */
  async deleteForUser(sql: Sql, userId: number): Promise<number> {
    return (await sql.write(this.knex('console_sessions').where({ user_id: userId }).delete())).affectedRows;
  }

  /** Forgets expired sessions; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    return this.knex('console_sessions').where('expires_at', '<=', now).delete();
  }
}
