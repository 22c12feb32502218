import crypto from 'node:crypto';
import { hashPassword } from '../auth/password-verifier';
import { conflict, invalid, notFound } from '../http/admin-errors';
import type { CampaignStore } from '../store/campaign-store';
import type { IntakeOwner, IntakeSettings, IntakeStore, IntakeUser, PullSettings } from '../store/intake-store';
import type { MerchantStore } from '../store/merchant-store';
import type { SecretBox } from './secret-box';
import type { PullRun } from './pull-run';

/** Pull settings as an admin gives them: the password in clear (optional when the settings exist already). */
export interface PullInput {
  protocol: PullSettings['protocol'];
  host: string;
  port?: number;
  directory?: string;
  username: string;
  password?: string;
}

/** What an admin sets for a campaign. */
export interface IntakeInput {
  upload: boolean;
  email: boolean;
  pull: PullInput | null;
}

/** A campaign's intake as the API and console show it (no password, no hash). */
export interface IntakeView {
  campaignId: number;
  upload: boolean;
  email: boolean;
  emailAddress: string | null;
  pull: (Omit<PullSettings, 'passwordSealed'> & { passwordSet: boolean }) | null;
  lastPull: { at: number; taken: number; error: string | null } | null;
  users: Array<Pick<IntakeUser, 'username' | 'createdAt' | 'revokedAt'>>;
}

/** A merchant's own e-mail intake address as the API shows it. */
export interface MerchantAddressView {
  merchantId: number;
  emailAddress: string | null;
}

const DEFAULT_PORTS: Record<PullSettings['protocol'], number> = { ftp: 21, ftps: 21, sftp: 22 };
const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/**
 * The admin side of the intake of impact.com files, for a campaign (or a merchant's upload users): its
 * settings, upload users, e-mail addresses and pulls. What the channels themselves ask (log-ins, recipients,
 * taking a file in) is `IntakeDoors`.
 */
export class IntakeService {
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      store: IntakeStore;
      campaigns: Pick<CampaignStore, 'get'>;
      /** Merchants' upload users: whether the merchant exists (without it, merchants have none). */
      merchants?: Pick<MerchantStore, 'exists'>;
      secrets: SecretBox;
      bcryptCost: number;
      smtpDomain: string | null;
      /** Runs one pull (set once the pull clients are built). */
      pull?: PullRun;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** A campaign's intake; 404 for an unknown campaign. */
  async show(campaignId: number): Promise<IntakeView> {
    await this.existingCampaign(campaignId);
    const { store } = this.deps;
    const settings = await store.settings(campaignId);
    const address = await store.currentAddress(campaignId);
    const users = await store.users(campaignId);
    return {
      campaignId,
      upload: settings?.upload ?? false,
      email: settings?.email ?? false,
      emailAddress: settings?.email ? (address?.address ?? null) : null,
      pull: settings?.pull
        ? {
            protocol: settings.pull.protocol,
            host: settings.pull.host,
            port: settings.pull.port,
            directory: settings.pull.directory,
            username: settings.pull.username,
            passwordSet: settings.pull.passwordSealed !== '',
            hostKeySha256: settings.pull.hostKeySha256,
          }
        : null,
      lastPull:
        settings?.lastPullAt != null
          ? { at: settings.lastPullAt, taken: settings.lastPullTaken ?? 0, error: settings.lastPullError }
          : null,
      users: users.map((u) => ({ username: u.username, createdAt: u.createdAt, revokedAt: u.revokedAt })),
    };
  }

  /** Sets a campaign's intake; a campaign turning e-mail on gets an address. */
  async set(campaignId: number, input: IntakeInput): Promise<IntakeView> {
    await this.existingCampaign(campaignId);
    const { store, secrets } = this.deps;
    const before = await store.settings(campaignId);
    let pull: PullSettings | null = null;
    if (input.pull) {
      const kept = before?.pull?.passwordSealed;
      if (input.pull.password === undefined && !kept) throw invalid('pull.password: is required');
      pull = {
        protocol: input.pull.protocol,
        host: input.pull.host,
        port: input.pull.port ?? DEFAULT_PORTS[input.pull.protocol],
        directory: input.pull.directory ?? '/',
        username: input.pull.username,
        passwordSealed: input.pull.password === undefined ? (kept as string) : secrets.seal(input.pull.password),
        // The pinned host key stays while the pull goes to the same server; another server is met afresh.
        hostKeySha256:
          before?.pull &&
          before.pull.protocol === input.pull.protocol &&
          before.pull.host === input.pull.host &&
          before.pull.port === (input.pull.port ?? DEFAULT_PORTS[input.pull.protocol])
            ? before.pull.hostKeySha256
            : null,
      };
    }
    await store.saveSettings(campaignId, { upload: input.upload, email: input.email, pull }, this.now());
    if (input.email && !(await store.currentAddress(campaignId))) await this.newAddress({ campaignId });
    return this.show(campaignId);
  }

  /** Creates an upload user and answers its password (this once; only its bcrypt hash is kept). */
  async createCredentials(campaignId: number, wanted?: string): Promise<{ username: string; password: string }> {
    await this.existingCampaign(campaignId);
    return this.newUser({ campaignId }, wanted ?? `c${campaignId}-${crypto.randomBytes(4).toString('hex')}`);
  }

  /**
   * Creates an upload user of a merchant (it covers exactly the merchant's campaigns, also those given it
   * later) and answers its password this once; 404 for an unknown merchant.
   */
  async createMerchantCredentials(
    merchantId: number,
    wanted?: string,
  ): Promise<{ username: string; password: string }> {
    await this.existingMerchant(merchantId);
    return this.newUser({ merchantId }, wanted ?? `m${merchantId}-${crypto.randomBytes(4).toString('hex')}`);
  }

  /** Revokes a merchant's upload user; 404 when the merchant has no such active user. */
  async revokeMerchantCredentials(merchantId: number, username: string): Promise<void> {
    await this.existingMerchant(merchantId);
    if (!(await this.deps.store.revokeUser({ merchantId }, username, this.now())))
      throw notFound(`intake user ${username}`);
  }

  private async newUser(owner: IntakeOwner, username: string): Promise<{ username: string; password: string }> {
    if (!USERNAME.test(username))
      throw invalid(
        'username: must be 3-64 characters of a-z, 0-9, dot, dash and underscore, starting with a letter or digit',
      );
    const password = crypto.randomBytes(18).toString('base64url');
    const passwordHash = await hashPassword(password, this.deps.bcryptCost);
    if (!(await this.deps.store.createUser({ username, passwordHash, ...owner }, this.now())))
      throw conflict(`username ${username} is taken`);
    return { username, password };
  }

  /** Revokes an upload user; 404 when the campaign has no such active user. */
  async revokeCredentials(campaignId: number, username: string): Promise<void> {
    await this.existingCampaign(campaignId);
    if (!(await this.deps.store.revokeUser(campaignId, username, this.now())))
      throw notFound(`intake user ${username}`);
  }

  /** Gives the campaign a new address, retiring the old one (mail to it is refused from now on). */
  async regenerateAddress(campaignId: number): Promise<IntakeView> {
    await this.existingCampaign(campaignId);
    if (!this.deps.smtpDomain) throw conflict('e-mail intake is off: set SMTP_DOMAIN');
    const settings = await this.deps.store.settings(campaignId);
    if (!settings?.email) throw conflict('e-mail intake is off for this campaign: set email to true first');
    await this.newAddress({ campaignId });
    return this.show(campaignId);
  }

  /** A merchant's current e-mail address (null: none); 404 for an unknown merchant. */
  async merchantAddress(merchantId: number): Promise<MerchantAddressView> {
    await this.existingMerchant(merchantId);
    const current = await this.deps.store.currentAddress({ merchantId });
    return { merchantId, emailAddress: current?.address ?? null };
  }

  /**
   * Gives a merchant a new e-mail address, retiring its current one (mail to that is refused from now on).
   * Files mailed to it cover exactly the merchant's campaigns, as they are when the rows run.
   */
  async replaceMerchantAddress(merchantId: number): Promise<MerchantAddressView> {
    await this.existingMerchant(merchantId);
    if (!this.deps.smtpDomain) throw conflict('e-mail intake is off: set SMTP_DOMAIN');
    await this.newAddress({ merchantId });
    return this.merchantAddress(merchantId);
  }

  /** Retires a merchant's e-mail address; 404 when it has none. */
  async retireMerchantAddress(merchantId: number): Promise<void> {
    await this.existingMerchant(merchantId);
    if (!(await this.deps.store.retireAddress({ merchantId }, this.now())))
      throw notFound(`e-mail address of merchant ${merchantId}`);
  }

  /** Runs the campaign's pull now: what it took, or its error. */
  async pullNow(campaignId: number) {
    await this.existingCampaign(campaignId);
    const settings = await this.deps.store.settings(campaignId);
    if (!settings?.pull) throw conflict('the campaign has no pull settings');
    if (!this.deps.pull) throw conflict('pulling is not available in this process');
    return this.deps.pull.run(settings);
  }

  /** Campaigns whose pull is due (the scheduler's list). */
  pulling(): Promise<IntakeSettings[]> {
    return this.deps.store.pulling();
  }

  private async newAddress(owner: IntakeOwner): Promise<void> {
    const domain = this.deps.smtpDomain ?? 'localhost';
    const address = `${crypto.randomBytes(10).toString('hex')}@${domain}`.toLowerCase();
    await this.deps.store.replaceAddress(owner, address, this.now());
  }

  private async existingMerchant(merchantId: number): Promise<void> {
    if (!(await this.deps.merchants?.exists(merchantId))) throw notFound(`merchant ${merchantId}`);
  }

  private async existingCampaign(campaignId: number): Promise<void> {
    if (!(await this.deps.campaigns.get(campaignId))) throw notFound(`campaign ${campaignId}`);
  }
}
