import type { Knex } from 'knex';
import { withAfterChange, type AfterChange } from './after-change';
import type { Sql, SqlRunner } from './sql';

/** An impact.com API account: the SID a brand's client signs in with, and the campaigns it may touch. */
export interface ApiAccount {
  id: number;
  accountSid: string;
  name: string;
  /** SHA-256 of the auth token, hex (the token itself is never stored). */
  tokenSha256: string;
  /** The campaigns it may touch: its merchant's, as they are now, when it is tied to one. */
  campaignIds: number[];
  /** The merchant it is tied to (it then covers exactly the merchant's campaigns), else null. */
  merchantId: number | null;
  createdAt: number;
  revokedAt: number | null;
}

/** What a call signs in as: the account's row id and SID (its campaigns are read when a route needs them). */
export type ApiCaller = Pick<ApiAccount, 'id' | 'accountSid'>;

/** What checking a call's credentials reads of an account. */
export type ApiCredentials = Pick<ApiAccount, 'id' | 'accountSid' | 'tokenSha256' | 'revokedAt'>;

/** An account to store. */
export type NewApiAccount = Pick<
  ApiAccount,
  'accountSid' | 'name' | 'tokenSha256' | 'campaignIds' | 'merchantId' | 'createdAt'
>;

type Row = Record<string, unknown>;

/** The api_accounts table and its campaigns (api_account_campaigns). */
export class ApiAccountStore {
  constructor(
    private readonly knex: Knex,
    private readonly sql: Pick<SqlRunner, 'rows' | 'transaction'>,
  ) {}

  /**
   * What checking a call's credentials needs of the account with this SID, or null: one prepared
   * statement, since every API call asks it.
   */
  async credentials(accountSid: string): Promise<ApiCredentials | null> {
    const [row] = await this.sql.rows<Row>(
      'select id, account_sid, token_sha256, revoked_at from api_accounts where account_sid = ?',
      [accountSid],
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      accountSid: String(row.account_sid),
      tokenSha256: String(row.token_sha256),
      revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : Number(row.revoked_at),
    };
  }

  /** Stores an account with its campaigns, in one transaction (with `afterChange`, the console's audit entry). */
  async create(account: NewApiAccount, afterChange?: AfterChange<ApiAccount>): Promise<ApiAccount> {
    return this.sql.transaction(async (sql) => {
      const { insertId: id } = await sql.write(
        this.knex('api_accounts').insert({
          account_sid: account.accountSid,
          name: account.name,
          token_sha256: account.tokenSha256,
          merchant_id: account.merchantId,
          created_at: account.createdAt,
        }),
      );
      if (account.campaignIds.length > 0 && account.merchantId === null)
        await sql.write(
          this.knex('api_account_campaigns').insert(
            account.campaignIds.map((campaignId) => ({ account_id: id, campaign_id: campaignId })),
          ),
        );
      const created: ApiAccount = {
        ...account,
        id,
        campaignIds:
          account.merchantId === null ? account.campaignIds : await this.merchantCampaigns(sql, account.merchantId),
        revokedAt: null,
      };
      await afterChange?.(sql, created);
      return created;
    });
  }

  /** An account by its SID (revoked ones too), or null. */
  async findBySid(accountSid: string): Promise<ApiAccount | null> {
    const row = await this.knex('api_accounts').where({ account_sid: accountSid }).first();
    if (!row) return null;
    const [account] = await this.withCampaigns([row]);
    return account;
  }

  /** The merchant an account (by its row id) is tied to, or null (an account with its own campaign list). */
  async merchantOf(accountId: number): Promise<number | null> {
    const row = await this.knex('api_accounts').where({ id: accountId }).first('merchant_id');
    return row?.merchant_id == null ? null : Number(row.merchant_id);
  }

  /** The campaigns of an account (by its row id): its own list, or its merchant's campaigns as they are now. */
  async campaignIdsOf(accountId: number): Promise<number[]> {
    const rows: Row[] = await this.knex('api_account_campaigns')
      .where({ account_id: accountId })
      .select('campaign_id')
      .union((union) =>
        union
          .from('campaigns')
          .join('api_accounts', 'api_accounts.merchant_id', 'campaigns.merchant_id')
          .where('api_accounts.id', accountId)
          .select('campaigns.id as campaign_id'),
      )
      .orderBy('campaign_id');
    return rows.map((r) => Number(r.campaign_id));
  }

  private async merchantCampaigns(sql: Sql, merchantId: number): Promise<number[]> {
    const rows = await sql.select<Row>(
      this.knex('campaigns').where({ merchant_id: merchantId }).orderBy('id').select('id'),
    );
    return rows.map((r) => Number(r.id));
  }

  /** Every account, oldest first. */
  async list(): Promise<ApiAccount[]> {
    return this.withCampaigns(await this.knex('api_accounts').orderBy('id'));
  }

  /**
   * Marks an account revoked; false when there is no such account or it was revoked already. `afterChange`
   * runs in the same transaction (the console's audit entry).
   */
  async revoke(accountSid: string, now: number, afterChange?: AfterChange<boolean>): Promise<boolean> {
    return withAfterChange(
      this.sql,
      async (sql) =>
        (
          await sql.write(
            this.knex('api_accounts')
              .where({ account_sid: accountSid })
              .whereNull('revoked_at')
              .update({ revoked_at: now }),
          )
        ).affectedRows > 0,
      afterChange,
    );
  }

  private async withCampaigns(rows: Row[]): Promise<ApiAccount[]> {
    const ids = rows.map((r) => Number(r.id));
    const links: Row[] =
      ids.length === 0
        ? []
        : await this.knex('api_account_campaigns').whereIn('account_id', ids).orderBy('campaign_id');
    const merchantIds = [...new Set(rows.filter((r) => r.merchant_id != null).map((r) => Number(r.merchant_id)))];
    const owned: Row[] =
      merchantIds.length === 0
        ? []
        : await this.knex('campaigns').whereIn('merchant_id', merchantIds).orderBy('id').select('id', 'merchant_id');
    return rows.map((r) => ({
      id: Number(r.id),
      accountSid: String(r.account_sid),
      name: String(r.name),
      tokenSha256: String(r.token_sha256),
      campaignIds:
        r.merchant_id == null
          ? links.filter((l) => Number(l.account_id) === Number(r.id)).map((l) => Number(l.campaign_id))
          : owned.filter((c) => Number(c.merchant_id) === Number(r.merchant_id)).map((c) => Number(c.id)),
      merchantId: r.merchant_id == null ? null : Number(r.merchant_id),
      createdAt: Number(r.created_at),
      revokedAt: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
    }));
  }
}
