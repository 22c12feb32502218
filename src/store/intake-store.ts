import type { Knex } from 'knex';
import type { Engine } from './database';
import { classifyDatabaseError } from './database-errors';
import type { SqlRunner } from './sql';

/** How the network pulls a brand's files: where from and as whom (the password sealed). */
export interface PullSettings {
  protocol: 'ftp' | 'ftps' | 'sftp';
  host: string;
  port: number;
  directory: string;
  username: string;
  /** The password sealed by the secret box (never the password itself). */
  passwordSealed: string;
  /** SFTP: the SHA-256 (hex) of the server's host key, pinned at the first pull that connected; null: none yet. */
  hostKeySha256: string | null;
}

/** A campaign's intake settings and its last pull. */
export interface IntakeSettings {
  campaignId: number;
  upload: boolean;
  email: boolean;
  pull: PullSettings | null;
  lastPullAt: number | null;
  lastPullError: string | null;
  lastPullTaken: number | null;
  updatedAt: number;
}

/** An upload user (FTP and SFTP log-in) of a campaign, or of a merchant (then it covers the merchant's campaigns). */
export interface IntakeUser {
  id: number;
  username: string;
  passwordHash: string;
  /** The campaign's user: null for a merchant's. */
  campaignId: number | null;
  /** The merchant's user: null for a campaign's. */
  merchantId: number | null;
  createdAt: number;
  revokedAt: number | null;
}

/** An e-mail address of a campaign, or of a merchant (then it covers the merchant's campaigns); retired ones are refused. */
export interface IntakeAddress {
  address: string;
  /** The campaign's address: null for a merchant's. */
  campaignId: number | null;
  /** The merchant's address: null for a campaign's. */
  merchantId: number | null;
  createdAt: number;
  retiredAt: number | null;
}

/** A file the network took from a brand's server. */
export interface PulledFile {
  campaignId: number;
  name: string;
  size: number;
  mtime: number;
  contentSha256: string;
}

const truthy = (value: unknown) => value === true || value === 1 || value === '1';
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

interface SettingsRow {
  campaign_id: number;
  upload: unknown;
  email: unknown;
  pull_protocol: string | null;
  pull_host: string | null;
  pull_port: number | null;
  pull_directory: string | null;
  pull_username: string | null;
  pull_password_sealed: string | null;
  pull_host_key_sha256?: string | null;
  last_pull_at: unknown;
  last_pull_error: string | null;
  last_pull_taken: unknown;
  updated_at: unknown;
}

function settingsFromRow(row: SettingsRow): IntakeSettings {
  return {
    campaignId: Number(row.campaign_id),
    upload: truthy(row.upload),
    email: truthy(row.email),
    pull:
      row.pull_protocol === null
        ? null
        : {
            protocol: row.pull_protocol as PullSettings['protocol'],
            host: row.pull_host ?? '',
            port: Number(row.pull_port),
            directory: row.pull_directory ?? '/',
            username: row.pull_username ?? '',
            passwordSealed: row.pull_password_sealed ?? '',
            hostKeySha256: row.pull_host_key_sha256 ?? null,
          },
    lastPullAt: numberOrNull(row.last_pull_at),
    lastPullError: row.last_pull_error,
    lastPullTaken: numberOrNull(row.last_pull_taken),
    updatedAt: Number(row.updated_at),
  };
}

function pullColumns(pull: PullSettings | null) {
  return {
    pull_protocol: pull?.protocol ?? null,
    pull_host: pull?.host ?? null,
    pull_port: pull?.port ?? null,
    pull_directory: pull?.directory ?? null,
    pull_username: pull?.username ?? null,
    pull_password_sealed: pull?.passwordSealed ?? null,
    pull_host_key_sha256: pull?.hostKeySha256 ?? null,
  };
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  campaign_id: number | null;
  merchant_id: number | null;
  created_at: unknown;
  revoked_at: unknown;
}

function userFromRow(row: UserRow): IntakeUser {
  return {
    id: Number(row.id),
    username: row.username,
    passwordHash: row.password_hash,
    campaignId: numberOrNull(row.campaign_id),
    merchantId: numberOrNull(row.merchant_id),
    createdAt: Number(row.created_at),
    revokedAt: numberOrNull(row.revoked_at),
  };
}

/** Whose upload user, e-mail address or taken message it is: a campaign's or a merchant's. */
export type IntakeOwner = { campaignId: number } | { merchantId: number };

/** The columns naming an owner (a bare number: a campaign). */
function ownerColumns(owner: number | IntakeOwner): Record<string, number> {
  if (typeof owner === 'number') return { campaign_id: owner };
  return 'campaignId' in owner ? { campaign_id: owner.campaignId } : { merchant_id: owner.merchantId };
}

/** Both owner columns of a new row: the owner's set, the other null. */
function ownerRow(owner: IntakeOwner): { campaign_id: number | null; merchant_id: number | null } {
  return 'campaignId' in owner
    ? { campaign_id: owner.campaignId, merchant_id: null }
    : { campaign_id: null, merchant_id: owner.merchantId };
}

interface AddressRow {
  address: string;
  campaign_id: number | null;
  merchant_id: number | null;
  created_at: unknown;
  retired_at: unknown;
}

function addressFromRow(row: AddressRow): IntakeAddress {
  return {
    address: row.address,
    campaignId: numberOrNull(row.campaign_id),
    merchantId: numberOrNull(row.merchant_id),
    createdAt: Number(row.created_at),
    retiredAt: numberOrNull(row.retired_at),
  };
}

/** Reads and writes the intake tables: settings, upload users, e-mail addresses, pulled files, messages. */
export class IntakeStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
    private readonly units: Pick<SqlRunner, 'transaction'>,
  ) {}

  /** A campaign's settings, or null when none were ever set. */
  async settings(campaignId: number): Promise<IntakeSettings | null> {
    const row = await this.knex('intake_settings').where({ campaign_id: campaignId }).first();
    return row ? settingsFromRow(row) : null;
  }

  /** Campaigns with pull settings. */
  async pulling(): Promise<IntakeSettings[]> {
    return (await this.knex('intake_settings').whereNotNull('pull_protocol').orderBy('campaign_id')).map(
      settingsFromRow,
    );
  }

  /** Writes a campaign's settings (the last pull is kept). */
  async saveSettings(
    campaignId: number,
    settings: { upload: boolean; email: boolean; pull: PullSettings | null },
    now: number,
  ): Promise<void> {
    const columns = { upload: settings.upload, email: settings.email, ...pullColumns(settings.pull), updated_at: now };
    // Both engines' upsert: ON CONFLICT (SQLite) / ON DUPLICATE KEY (MySQL), which knex writes per engine.
    await this.knex('intake_settings')
      .insert({ campaign_id: campaignId, ...columns })
      .onConflict('campaign_id')
      .merge(columns);
  }

  /** Pins the SFTP host key a pull met, unless one is pinned already (the first pull that connects wins). */
  async pinHostKey(campaignId: number, hostKeySha256: string): Promise<void> {
    await this.knex('intake_settings')
      .where({ campaign_id: campaignId })
      .whereNull('pull_host_key_sha256')
      .update({ pull_host_key_sha256: hostKeySha256 });
  }

  /** Records a pull attempt: when, how many files it took, and its error (null: it worked). */
  async recordPull(campaignId: number, at: number, taken: number, error: string | null): Promise<void> {
    await this.knex('intake_settings')
      .where({ campaign_id: campaignId })
      .update({ last_pull_at: at, last_pull_taken: taken, last_pull_error: error });
  }

  /** Adds an upload user of a campaign or a merchant; false when the name is taken (by anyone, revoked or not). */
  async createUser(user: { username: string; passwordHash: string } & IntakeOwner, now: number) {
    try {
      await this.knex('intake_users').insert({
        username: user.username,
        password_hash: user.passwordHash,
        ...ownerRow(user),
        created_at: now,
      });
      return true;
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key') return false;
      throw error;
    }
  }

  /** Revokes a campaign's (or merchant's) user; false when it has no such user still active. */
  async revokeUser(owner: number | IntakeOwner, username: string, now: number): Promise<boolean> {
    const changed = await this.knex('intake_users')
      .where({ ...ownerColumns(owner), username })
      .whereNull('revoked_at')
      .update({ revoked_at: now });
    return Number(changed) > 0;
  }

  /** A user by name, revoked or not. */
  async user(username: string): Promise<IntakeUser | null> {
    const row = await this.knex('intake_users').where({ username }).first();
    return row ? userFromRow(row) : null;
  }

  /** A campaign's (or merchant's) users, oldest first. */
  async users(owner: number | IntakeOwner): Promise<IntakeUser[]> {
    return (await this.knex('intake_users').where(ownerColumns(owner)).orderBy('id')).map(userFromRow);
  }

  /** A campaign's (or merchant's) current (not retired) address, or null. */
  async currentAddress(owner: number | IntakeOwner): Promise<IntakeAddress | null> {
    const row = await this.knex('intake_email_addresses')
      .where(ownerColumns(owner))
      .whereNull('retired_at')
      .orderBy('id', 'desc')
      .first();
    return row ? addressFromRow(row) : null;
  }

  /** An address by its text (lower case), retired or not. */
  async address(address: string): Promise<IntakeAddress | null> {
    const row = await this.knex('intake_email_addresses').where({ address }).first();
    return row ? addressFromRow(row) : null;
  }

  /** Retires a campaign's (or merchant's) current address and gives it `address`, in one transaction. */
  async replaceAddress(owner: number | IntakeOwner, address: string, now: number): Promise<void> {
    const by: IntakeOwner = typeof owner === 'number' ? { campaignId: owner } : owner;
    await this.units.transaction(async (sql) => {
      await sql.write(
        this.knex('intake_email_addresses').where(ownerColumns(by)).whereNull('retired_at').update({ retired_at: now }),
      );
      await sql.write(this.knex('intake_email_addresses').insert({ address, ...ownerRow(by), created_at: now }));
    });
  }

  /** Retires a campaign's (or merchant's) current address; false when it has none. */
  async retireAddress(owner: number | IntakeOwner, now: number): Promise<boolean> {
    const changed = await this.knex('intake_email_addresses')
      .where(ownerColumns(owner))
      .whereNull('retired_at')
      .update({ retired_at: now });
    return Number(changed) > 0;
  }

  /** True when this file (same name, size and mtime, or same content) was taken for the campaign already. */
  async pulledBefore(file: Omit<PulledFile, 'contentSha256'> & { contentSha256?: string }): Promise<boolean> {
    const query = this.knex('intake_pulled_files')
      .where({ campaign_id: file.campaignId })
      .andWhere((q) => {
        q.where({ name: file.name, size: file.size, mtime: file.mtime });
        if (file.contentSha256) q.orWhere({ content_sha256: file.contentSha256 });
      })
      .first('id');
    return (await query) !== undefined;
  }

  /**
   * Claims a pulled file for taking: false when it was claimed already (the unique key decides, so two
   * instances pulling at once take it once). `batchId` is set by `settlePulled` once the batch is stored.
   */
  async claimPulled(file: PulledFile, now: number): Promise<boolean> {
    try {
      await this.knex('intake_pulled_files').insert({
        campaign_id: file.campaignId,
        name: file.name,
        size: file.size,
        mtime: file.mtime,
        content_sha256: file.contentSha256,
        taken_at: now,
      });
      return true;
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key') return false;
      throw error;
    }
  }

  /** Gives up a claim whose file did not become a batch (a failure), so the next pull takes it. */
  async releasePulled(file: PulledFile): Promise<void> {
    await this.knex('intake_pulled_files')
      .where({ campaign_id: file.campaignId, name: file.name, size: file.size, mtime: file.mtime })
      .whereNull('batch_id')
      .delete();
  }

  /** Gives up a message's claim when taking it in failed, so its next delivery is taken. */
  async releaseMessage(idSha256: string): Promise<void> {
    await this.knex('intake_messages').where({ message_id_sha256: idSha256 }).delete();
  }

  /** Notes the batch a claimed file became. */
  async settlePulled(file: PulledFile, batchId: number | null): Promise<void> {
    await this.knex('intake_pulled_files')
      .where({ campaign_id: file.campaignId, name: file.name, size: file.size, mtime: file.mtime })
      .update({ batch_id: batchId });
  }

  /** Claims a message for its campaign (or merchant) by its Message-ID's hash: false when it was taken in already. */
  async claimMessage(message: { idSha256: string; sender: string | null } & IntakeOwner, now: number) {
    try {
      await this.knex('intake_messages').insert({
        message_id_sha256: message.idSha256,
        ...ownerRow(message),
        sender: message.sender,
        received_at: now,
      });
      return true;
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key') return false;
      throw error;
    }
  }

  /** The engine (kept for engine-specific statements). */
  get databaseEngine(): Engine {
    return this.engine;
  }
}
