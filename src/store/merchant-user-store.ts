import type { Knex } from 'knex';
import { onPool, readerOf, type Reader, type Sql } from './sql';

/** A person of a merchant who signs in to the console (never with its password hash or link). */
export interface MerchantUser {
  id: number;
  merchantId: number;
  email: string;
  name: string;
  /** Whether a password is set (the one-time link was used). */
  hasPassword: boolean;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What signing in needs of a user: its hash too. */
export interface MerchantUserCredentials extends MerchantUser {
  passwordHash: string | null;
}

type Row = {
  id: number | string;
  merchant_id: number | string;
  email: string;
  name: string;
  password_hash: string | null;
  link_expires_at?: number | string | null;
  disabled_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
};

const COLUMNS = [
  'id',
  'merchant_id',
  'email',
  'name',
  'password_hash',
  'disabled_at',
  'created_at',
  'updated_at',
] as const;

function credentialsFromRow(row: Row): MerchantUserCredentials {
  return {
    id: Number(row.id),
    merchantId: Number(row.merchant_id),
    email: row.email,
    name: row.name,
    hasPassword: row.password_hash !== null,
    passwordHash: row.password_hash,
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** A user without its secrets. */
export function publicUser(user: MerchantUserCredentials): MerchantUser {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

/** The merchant_users table (and the sessions its users open). */
export class MerchantUserStore {
  constructor(private readonly knex: Knex) {}

  /** A merchant's users, by id. */
  async listFor(merchantId: number): Promise<MerchantUser[]> {
    const rows: Row[] = await this.knex('merchant_users')
      .where({ merchant_id: merchantId })
      .orderBy('id')
      .select(...COLUMNS);
    return rows.map((row) => publicUser(credentialsFromRow(row)));
  }

  /** Whether any merchant user exists (the sign-in form then asks for a name). */
  async any(): Promise<boolean> {
    return (await this.knex('merchant_users').first('id')) !== undefined;
  }

  /** One user with its hash, or null. */
  get(id: number): Promise<MerchantUserCredentials | null> {
    return this.read(onPool, { id });
  }

  /** One user with its hash, or null, inside a unit of work. */
  getIn(sql: Sql, id: number): Promise<MerchantUserCredentials | null> {
    return this.read(readerOf(sql), { id });
  }

  /** The user signing in with this e-mail (lower-cased by the caller), or null. */
  byEmail(email: string): Promise<MerchantUserCredentials | null> {
    return this.read(onPool, { email });
  }

  private async read(read: Reader, where: { id: number } | { email: string }): Promise<MerchantUserCredentials | null> {
    const [row] = await read<Row>(
      this.knex('merchant_users')
        .where(where)
        .limit(1)
        .select(...COLUMNS),
    );
    return row ? credentialsFromRow(row) : null;
  }

  /** The user whose live link (not expired, user not disabled) hashes to `linkHash`: a plain read. */
  async byLink(sql: Sql, linkHash: string, now: number): Promise<MerchantUserCredentials | null> {
    const [row] = await sql.select<Row>(this.liveLink(linkHash, now));
    return row ? credentialsFromRow(row) : null;
  }

  /** The user a live one-time link (by its hash) belongs to, locked for the unit on MySQL/MariaDB. */
  async byLinkForUpdate(sql: Sql, linkHash: string, now: number): Promise<MerchantUserCredentials | null> {
    const query = this.liveLink(linkHash, now);
    const [row] = await sql.select<Row>(sql.engine === 'mysql' ? query.forUpdate() : query);
    return row ? credentialsFromRow(row) : null;
  }

  private liveLink(linkHash: string, now: number) {
    return this.knex('merchant_users')
      .where({ link_hash: linkHash })
      .andWhere('link_expires_at', '>', now)
      .whereNull('disabled_at')
      .limit(1)
      .select(...COLUMNS);
  }

  /** Inserts a user without a password; returns its id. */
  async create(
    sql: Sql,
    user: { merchantId: number; email: string; name: string; linkHash: string; linkExpiresAt: number },
    now: number,
  ): Promise<number> {
    const { insertId } = await sql.write(
      this.knex('merchant_users').insert({
        merchant_id: user.merchantId,
        email: user.email,
        name: user.name,
        password_hash: null,
        link_hash: user.linkHash,
        link_expires_at: user.linkExpiresAt,
        disabled_at: null,
        created_at: now,
        updated_at: now,
      }),
    );
    return insertId;
  }

  /** Changes name and/or disabled state of one of the merchant's users; false when there is none. */
  async update(
    sql: Sql,
    merchantId: number,
    id: number,
    changes: { name?: string; disabledAt?: number | null },
    now: number,
  ): Promise<boolean> {
    const columns: Record<string, unknown> = { updated_at: now };
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.disabledAt !== undefined) columns.disabled_at = changes.disabledAt;
    return (
      (await sql.write(this.knex('merchant_users').where({ id, merchant_id: merchantId }).update(columns)))
        .affectedRows > 0
    );
  }

  /** Replaces the user's one-time link (a new one invalidates the previous). */
  async setLink(sql: Sql, id: number, linkHash: string, expiresAt: number, now: number): Promise<void> {
    await sql.write(
      this.knex('merchant_users')
        .where({ id })
        .update({ link_hash: linkHash, link_expires_at: expiresAt, updated_at: now }),
    );
  }

  /** Sets the password hash and spends the link. */
  async setPassword(sql: Sql, id: number, passwordHash: string, now: number): Promise<void> {
    await sql.write(
      this.knex('merchant_users')
        .where({ id })
        .update({ password_hash: passwordHash, link_hash: null, link_expires_at: null, updated_at: now }),
    );
  }
}
