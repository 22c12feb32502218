import crypto from 'node:crypto';
import type { ApiAccount, ApiAccountStore, ApiCaller } from '../store/api-account-store';
import type { AfterChange } from '../store/after-change';
import type { CampaignStore } from '../store/campaign-store';
import type { MerchantStore } from '../store/merchant-store';

/** An account as the admin API shows it: never its token (nor the token's hash). */
export type ApiAccountView = Omit<ApiAccount, 'tokenSha256' | 'id'>;

/** A new account and its token: the only time the token is ever answered. */
export type CreatedApiAccount =
  { ok: true; account: ApiAccountView; authToken: string } | { ok: false; message: string };

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** Campaigns one account may hold. */
export const MAX_ACCOUNT_CAMPAIGNS = 1000;

/**
 * impact.com API accounts: created with their campaigns (the only actions their calls may touch), listed,
 * revoked, and checked at every call.
 *
 * The token is 32 random bytes (base64url), stored as its SHA-256 and compared in constant time. A fast
 * hash is enough here, unlike a campaign's password (bcrypt): a guess at 256 random bits never succeeds
 * however fast it is tried, and every API call checks the token, which bcrypt would make cost ~50 ms of CPU.
 */
export class ApiAccountService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      apiAccounts: ApiAccountStore;
      campaigns: Pick<CampaignStore, 'get'>;
      merchants: Pick<MerchantStore, 'exists'>;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates an account for existing campaigns; its SID and token (answered this once). `afterChange` runs in
   * the account's own transaction (the console's audit entry), with the account as shown — never the token.
   */
  async create(
    input: { name: string; campaignIds?: number[]; merchantId?: number },
    afterChange?: AfterChange<ApiAccountView>,
  ): Promise<CreatedApiAccount> {
    // Either a list of campaigns or a merchant (then exactly its campaigns, those added later too).
    const merchantId = input.merchantId ?? null;
    if ((merchantId === null) === (input.campaignIds === undefined || input.campaignIds.length === 0))
      return { ok: false, message: 'give campaignIds or merchantId, not both' };
    if (merchantId !== null && !(await this.deps.merchants.exists(merchantId)))
      return { ok: false, message: `merchantId: merchant ${merchantId} not found` };
    const campaignIds = [...new Set(input.campaignIds ?? [])].sort((a, b) => a - b);
    for (const id of campaignIds)
      if (!(await this.deps.campaigns.get(id))) return { ok: false, message: `campaignIds: campaign ${id} not found` };
    // impact.com's SIDs are "IR" and 32 more characters.
    const accountSid = `IR${crypto.randomBytes(16).toString('hex').toUpperCase()}`;
    const authToken = crypto.randomBytes(32).toString('base64url');
    const account = await this.deps.apiAccounts.create(
      { accountSid, name: input.name, tokenSha256: sha256(authToken), campaignIds, merchantId, createdAt: this.now() },
      afterChange && ((tx, created) => afterChange(tx, view(created))),
    );
    return { ok: true, account: view(account), authToken };
  }

  /** Every account, revoked ones too, without tokens. */
  async list(): Promise<ApiAccountView[]> {
    return (await this.deps.apiAccounts.list()).map(view);
  }

  /**
   * Revokes an account: its token no longer signs in. The account, or null when there is none.
   * `afterChange` runs in the revocation's transaction, only when this call revoked it.
   */
  async revoke(accountSid: string, afterChange?: AfterChange<string>): Promise<ApiAccountView | null> {
    await this.deps.apiAccounts.revoke(
      accountSid,
      this.now(),
      afterChange && ((tx, revoked) => (revoked ? afterChange(tx, accountSid) : Promise.resolve())),
    );
    const account = await this.deps.apiAccounts.findBySid(accountSid);
    return account ? view(account) : null;
  }

  /** The account a SID and token sign in as, or null (unknown SID, wrong token, revoked account). */
  async authenticate(accountSid: string, authToken: string): Promise<ApiCaller | null> {
    const account = accountSid.length <= 64 ? await this.deps.apiAccounts.credentials(accountSid) : null;
    // Hashing first gives equal lengths, and timingSafeEqual tells nothing of how much of it matched.
    const given = Buffer.from(sha256(authToken), 'hex');
    const expected = Buffer.from(account?.tokenSha256 ?? '0'.repeat(64), 'hex');
    const matches = crypto.timingSafeEqual(given, expected);
    return account && matches && account.revokedAt === null ? { id: account.id, accountSid: account.accountSid } : null;
  }
}

function view(account: ApiAccount): ApiAccountView {
  const { tokenSha256: _hash, id: _id, ...shown } = account;
  return shown;
}
