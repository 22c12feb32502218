import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { conflict, invalid, notFound } from '../http/admin-errors';
import { hashPassword, MAX_PASSWORD_BYTES } from '../auth/password-verifier';
import type { AfterChange } from '../store/after-change';
import type { ConsoleSessionStore } from '../store/console-session-store';
import { classifyDatabaseError } from '../store/database-errors';
import { retryingLockConflicts } from '../store/lock-retries';
import type { MerchantStore } from '../store/merchant-store';
import {
  publicUser,
  type MerchantUser,
  type MerchantUserCredentials,
  type MerchantUserStore,
} from '../store/merchant-user-store';
import type { UnitOfWork } from '../store/unit-of-work';

/** How long a one-time sign-in link stays usable. */
export const LINK_HOURS = 72;
/** The shortest password a merchant user may choose. */
export const MIN_PASSWORD_LENGTH = 12;

const EMAIL =
  /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

const linkHashOf = (token: string) => crypto.createHash('sha256').update(token).digest('hex');
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** An e-mail address as users are keyed by it (trimmed, lower-case), or null when it is not one. */
export function normalEmail(text: string): string | null {
  const email = text.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : null;
}

/** A one-time link just issued: the token exists only here, in the answer to the admin. */
export interface IssuedLink {
  user: MerchantUser;
  token: string;
  expiresAt: number;
}

export interface MerchantUserServiceDeps {
  units: UnitOfWork;
  merchants: MerchantStore;
  merchantUsers: MerchantUserStore;
  consoleSessions: ConsoleSessionStore;
  bcryptCost: number;
  now?: () => number;
}

/**
 * Merchant users: created by an admin (with a one-time link, never a password), their password chosen on
 * that link (bcrypt), disabled (their console sessions end in the same unit of work). Signing in checks
 * the password here; every console request of a merchant session asks `active` again.
 */
export class MerchantUserService {
  private readonly now: () => number;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: MerchantUserServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The merchant's users (404 for a missing merchant). */
  async list(merchantId: number): Promise<MerchantUser[]> {
    await this.requireMerchant(merchantId);
    return this.deps.merchantUsers.listFor(merchantId);
  }

  /** One of the merchant's users (404 when missing or another merchant's). */
  async get(merchantId: number, userId: number): Promise<MerchantUser> {
    const user = await this.deps.merchantUsers.get(userId);
    if (!user || user.merchantId !== merchantId) throw notFound(`user ${userId} of merchant ${merchantId}`);
    return publicUser(user);
  }

  /** Whether any merchant user exists. */
  any(): Promise<boolean> {
    return this.deps.merchantUsers.any();
  }

  /** Creates a user of the merchant and its first one-time link. */
  async create(
    merchantId: number,
    input: { email: string; name: string },
    afterChange?: AfterChange<MerchantUser>,
  ): Promise<IssuedLink> {
    const email = normalEmail(input.email);
    if (email === null) throw invalid('email: must be an e-mail address');
    const name = input.name.trim();
    if (name === '') throw invalid('name: must not be empty');
    const token = crypto.randomBytes(32).toString('base64url');
    try {
      return await retryingLockConflicts(() =>
        this.deps.units.run(async (sql) => {
          const now = this.now();
          if (!(await this.deps.merchants.getIn(sql, merchantId))) throw notFound(`merchant ${merchantId}`);
          const expiresAt = now + LINK_HOURS * 3_600_000;
          const id = await this.deps.merchantUsers.create(
            sql,
            { merchantId, email, name, linkHash: linkHashOf(token), linkExpiresAt: expiresAt },
            now,
          );
          const user = await this.userIn(sql, id, afterChange);
          return { user, token, expiresAt };
        }),
      );
    } catch (error) {
      if (classifyDatabaseError(error) === 'duplicate_key')
        throw conflict(`a user with e-mail ${email} already exists`);
      throw error;
    }
  }

  /** A new one-time link for the user (the previous one stops working): a lost password, a new start. */
  async issueLink(merchantId: number, userId: number, afterChange?: AfterChange<MerchantUser>): Promise<IssuedLink> {
    const token = crypto.randomBytes(32).toString('base64url');
    return retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const now = this.now();
        const found = await this.deps.merchantUsers.getIn(sql, userId);
        if (!found || found.merchantId !== merchantId) throw notFound(`user ${userId} of merchant ${merchantId}`);
        if (found.disabledAt !== null) throw conflict(`user ${userId} is disabled: enable it first`);
        const expiresAt = now + LINK_HOURS * 3_600_000;
        await this.deps.merchantUsers.setLink(sql, userId, linkHashOf(token), expiresAt, now);
        return { user: await this.userIn(sql, userId, afterChange), token, expiresAt };
      }),
    );
  }

  /** Renames, disables or enables a user; disabling ends its console sessions in the same unit. */
  async update(
    merchantId: number,
    userId: number,
    input: { name?: string; disabled?: boolean },
    afterChange?: AfterChange<MerchantUser>,
  ): Promise<MerchantUser> {
    const name = input.name?.trim();
    if (name === '') throw invalid('name: must not be empty');
    return retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const now = this.now();
        const found = await this.deps.merchantUsers.getIn(sql, userId);
        if (!found || found.merchantId !== merchantId) throw notFound(`user ${userId} of merchant ${merchantId}`);
        const disabledAt = input.disabled === undefined ? undefined : input.disabled ? (found.disabledAt ?? now) : null;
        await this.deps.merchantUsers.update(sql, merchantId, userId, { name, disabledAt }, now);
        if (input.disabled) await this.deps.consoleSessions.deleteForUser(sql, userId);
        return this.userIn(sql, userId, afterChange);
      }),
    );
  }

  /** The user a live one-time link names (not disabled, not expired, not spent), or null. */
  async linkHolder(token: string): Promise<MerchantUser | null> {
    if (!LINK_TOKEN.test(token)) return null;
    // Showing the form reads; only spending the link (setPassword) locks the row.
    const user = await this.deps.merchantUsers.byLink(this.deps.units.alone, linkHashOf(token), this.now());
    return user && publicUser(user);
  }

  /**
   * Sets the password through a one-time link and spends the link, in one unit: two tabs racing on the same
   * link set it once. Answers the problems with the password (nothing changes), or null when the link is
   * not live, or the user.
   */
  async setPassword(
    token: string,
    password: string,
    afterChange?: AfterChange<MerchantUser>,
  ): Promise<{ ok: true; user: MerchantUser } | { ok: false; problem: string } | null> {
    if (!LINK_TOKEN.test(token)) return null;
    const problem = passwordProblem(password);
    if (problem) return { ok: false, problem };
    const hash = await hashPassword(password, this.deps.bcryptCost);
    return retryingLockConflicts(() =>
      this.deps.units.run(async (sql) => {
        const now = this.now();
        const user = await this.deps.merchantUsers.byLinkForUpdate(sql, linkHashOf(token), now);
        if (!user) return null;
        await this.deps.merchantUsers.setPassword(sql, user.id, hash, now);
        // Sessions opened with an earlier password end with it.
        await this.deps.consoleSessions.deleteForUser(sql, user.id);
        return { ok: true as const, user: await this.userIn(sql, user.id, afterChange) };
      }),
    );
  }

  /**
   * The user these credentials sign in, or null. An unknown address, a disabled user or one without a
   * password costs a compare too, so timing does not tell which addresses exist.
   */
  async verify(emailText: string, password: string): Promise<MerchantUser | null> {
    const email = normalEmail(emailText);
    const user = email === null ? null : await this.deps.merchantUsers.byEmail(email);
    this.dummyHash ??= bcrypt.hash(crypto.randomBytes(16).toString('hex'), this.deps.bcryptCost);
    const usable = user !== null && user.disabledAt === null && user.passwordHash !== null;
    const matches = await bcrypt.compare(password, usable ? (user.passwordHash as string) : await this.dummyHash);
    return usable && matches ? publicUser(user) : null;
  }

  /** The user behind a merchant session, while it may still sign in (not disabled), or null. */
  async active(userId: number): Promise<MerchantUser | null> {
    const user = await this.deps.merchantUsers.get(userId);
    return user && user.disabledAt === null && user.passwordHash !== null ? publicUser(user) : null;
  }

  private async requireMerchant(merchantId: number): Promise<void> {
    if (!(await this.deps.merchants.getIn(this.deps.units.alone, merchantId))) throw notFound(`merchant ${merchantId}`);
  }

  private async userIn(
    sql: Parameters<AfterChange<MerchantUser>>[0],
    id: number,
    afterChange: AfterChange<MerchantUser> | undefined,
  ): Promise<MerchantUser> {
    const found: MerchantUserCredentials | null = await this.deps.merchantUsers.getIn(sql, id);
    if (!found) throw new Error(`merchant user ${id} vanished inside its own unit of work`);
    const user = publicUser(found);
    await afterChange?.(sql, user);
    return user;
  }
}

/** What is wrong with a password a user chose, or null. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH)
    return `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES)
    return `The password must be at most ${MAX_PASSWORD_BYTES} bytes long (bcrypt reads no further).`;
  return null;
}
