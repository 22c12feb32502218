import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { secretsEqual } from '../admin/admin-auth';
import { ADMIN_AUTH_FAILURES_PER_WINDOW, type AdminAuthBrake } from '../auth/admin-auth-brake';
import type { ConsoleUser } from './admin-users';
import type { AfterChange } from '../store/after-change';
import { retryingLockConflicts } from '../store/lock-retries';
import type { ConsoleSession, ConsoleSessionStore } from '../store/console-session-store';
import type { MerchantUser } from '../store/merchant-user-store';

/** What the console asks of merchant users (`MerchantUserService`). */
export interface MerchantUserAuth {
  verify(email: string, password: string): Promise<MerchantUser | null>;
  active(userId: number): Promise<MerchantUser | null>;
  any(): Promise<boolean>;
}

/** A live session as a request sees it: a merchant user's carries its merchant. */
export interface SignedInSession extends ConsoleSession {
  /** The merchant whose user opened the session (method `merchant`), else null: a network admin. */
  merchantId: number | null;
}

/** The console's slice of the config. */
export interface ConsoleAuthSettings {
  adminToken: string | null;
  users: readonly ConsoleUser[];
  sessionTtlMs: number;
}

/** Actor name of sessions opened with ADMIN_TOKEN. */
export const TOKEN_ACTOR = 'admin-token';

/** Failed sign-ins one client may make per limiter window, by default (`AdminAuthBrake`, RATE_LIMIT_ADMIN_FAILURES). */
export const SIGN_IN_FAILURES_PER_WINDOW = ADMIN_AUTH_FAILURES_PER_WINDOW;

/** What a sign-in attempt came to; `sessionId` is the cookie value and exists only here. */
export type SignInResult =
  | { ok: true; sessionId: string; session: ConsoleSession }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'disabled' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (sessionId: string) => crypto.createHash('sha256').update(sessionId).digest('hex');

/**
 * Sign-in, sessions and sign-out of the web console. Credentials are ADMIN_TOKEN (actor `admin-token`)
 * or a user of ADMIN_USERS (bcrypt). The session id is 256 random bits handed to the browser once;
 * only its SHA-256 is stored. A session stays valid only while the way it was opened is still
 * configured: unsetting ADMIN_TOKEN or removing a user ends their sessions at the next request.
 */
export class ConsoleAuth {
  private readonly now: () => number;
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly deps: {
      sessions: ConsoleSessionStore;
      /** The admin brake, shared with the admin API's bearer token. */
      brake: AdminAuthBrake;
      settings: ConsoleAuthSettings;
      /** Merchant users (sign-in by e-mail); absent: only admins sign in. */
      merchantUsers?: MerchantUserAuth;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** True when some way of signing in is configured. */
  get enabled(): boolean {
    return this.deps.settings.adminToken !== null || this.deps.settings.users.length > 0;
  }

  /** True when named users are configured or merchant users exist (the sign-in form then asks for a name). */
  async hasUsers(): Promise<boolean> {
    return this.deps.settings.users.length > 0 || ((await this.deps.merchantUsers?.any()) ?? false);
  }

  /**
   * Checks credentials (name empty: the admin token) and opens a session; `afterChange` commits with it.
   * Failures count against the client's admin brake; past its limit, one sign-in per interval is still
   * checked (`AdminAuthBrake`).
   */
  async signIn(
    attempt: { name: string; secret: string; clientIp: string },
    afterChange?: AfterChange<ConsoleSession>,
  ): Promise<SignInResult> {
    if (!this.enabled) return { ok: false, reason: 'disabled' };
    const answer = await this.deps.brake.attempt(attempt.clientIp, () =>
      this.verify(attempt.name.trim(), attempt.secret),
    );
    if (!answer.ok) return answer;
    const actor = answer.value;
    const now = this.now();
    await retryingLockConflicts(() => this.deps.sessions.deleteExpired(now));
    const sessionId = crypto.randomBytes(32).toString('base64url');
    const session: ConsoleSession = {
      idHash: hashOf(sessionId),
      actor: actor.name,
      method: actor.method,
      csrfToken: crypto.randomBytes(32).toString('base64url'),
      clientIp: attempt.clientIp || null,
      userId: actor.userId,
      createdAt: now,
      expiresAt: now + this.deps.settings.sessionTtlMs,
    };
    await retryingLockConflicts(() =>
      this.deps.sessions.create(session, afterChange && ((trx) => afterChange(trx, session))),
    );
    return { ok: true, sessionId, session };
  }

  /**
   * The live session behind a cookie value, or null: a merchant user's only while the user is enabled (its
   * merchant read again on every request), an admin's only while its token or user is still configured.
   */
  async resolve(sessionId: string | undefined): Promise<SignedInSession | null> {
    if (!sessionId || !SESSION_ID.test(sessionId)) return null;
    const session = await this.deps.sessions.findActive(hashOf(sessionId), this.now());
    if (!session) return null;
    const { settings, merchantUsers } = this.deps;
    if (session.method === 'merchant') {
      const user = session.userId === null || !merchantUsers ? null : await merchantUsers.active(session.userId);
      return user ? { ...session, merchantId: user.merchantId } : null;
    }
    const stillAllowed =
      session.method === 'token' ? settings.adminToken !== null : settings.users.some((u) => u.name === session.actor);
    return stillAllowed ? { ...session, merchantId: null } : null;
  }

  /** Ends the session behind a cookie value (nothing happens for an unknown one); `afterChange` commits with it. */
  async signOut(sessionId: string | undefined, afterChange?: AfterChange<void>): Promise<void> {
    if (sessionId && SESSION_ID.test(sessionId))
      await retryingLockConflicts(() => this.deps.sessions.delete(hashOf(sessionId), afterChange));
  }

  private async verify(
    name: string,
    secret: string,
  ): Promise<{ name: string; method: ConsoleSession['method']; userId: number | null } | null> {
    const { settings, merchantUsers } = this.deps;
    if (secret === '') return null;
    if (name === '') {
      return settings.adminToken !== null && secretsEqual(secret, settings.adminToken)
        ? { name: TOKEN_ACTOR, method: 'token', userId: null }
        : null;
    }
    const user = settings.users.find((u) => u.name === name);
    // A name that is no ADMIN_USERS user and looks like an address is a merchant user's (one compare either way).
    if (!user && merchantUsers && name.includes('@')) {
      const merchantUser = await merchantUsers.verify(name, secret);
      return merchantUser ? { name: merchantUser.email, method: 'merchant', userId: merchantUser.id } : null;
    }
    // An unknown name costs a compare too, so timing does not tell which names exist.
    this.dummyHash ??= bcrypt.hash(crypto.randomBytes(16).toString('hex'), 10);
    const hash = user?.passwordHash ?? (await this.dummyHash);
    const matches = await bcrypt.compare(secret, hash);
    return user && matches ? { name: user.name, method: 'user', userId: null } : null;
  }
}
