import type { FailureLimiter, LimitKey } from './failure-limiter';
import { clientKeyOf } from './ip-address';

/** Failed admin authentications one client may make per window, by default (RATE_LIMIT_ADMIN_FAILURES). */
export const ADMIN_AUTH_FAILURES_PER_WINDOW = 10;

/** The brake's settings: its limit per window (0: off) and how often a braked client is still checked. */
export interface AdminAuthBrakeSettings {
  failures: number;
  checksPerMinute: number;
}

/** What an attempt came to: the verified value, a wrong credential, or a refusal with its Retry-After. */
export type AdminAuthAnswer<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * The brake on failed admin authentication — the admin API's bearer token and the console's sign-in,
 * one counter per client for both doors (an IPv6 client by its /64), in the shared limiter (Redis when
 * configured). Past `failures` in a window, the client's credentials are still checked, one per
 * 60 / `checksPerMinute` seconds: a right one passes, so an honest admin behind the same address as a
 * guesser is slowed, never locked out; anything else is refused as throttled, with the seconds until the
 * next check, and no credential is looked at.
 */
export class AdminAuthBrake {
  constructor(
    private readonly limiter: FailureLimiter,
    private readonly settings: AdminAuthBrakeSettings,
  ) {}

  /**
   * Runs `verify` (its value, or null for a wrong credential) for an attempt from `clientIp`, within the
   * brake: a wrong credential counts against the client.
   */
  async attempt<T>(clientIp: string, verify: () => Promise<T | null> | T | null): Promise<AdminAuthAnswer<T>> {
    const client = clientKeyOf(clientIp);
    const keys: LimitKey[] =
      this.settings.failures > 0 ? [{ key: `admin-auth:${client}`, limit: this.settings.failures }] : [];
    const braked = keys.length > 0 && (await this.limiter.blockedFor(keys)) > 0;
    const intervalMs = 60_000 / this.settings.checksPerMinute;
    if (braked) {
      const waitMs = await this.limiter.takeTurn(`admin-auth-check:${client}`, intervalMs);
      if (waitMs > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: Math.ceil(waitMs / 1000) };
    }
    const value = await verify();
    if (value !== null) return { ok: true, value };
    if (keys.length > 0) await this.limiter.recordFailure(keys);
    // A wrong credential checked under the brake: the next check comes one interval later.
    return braked
      ? { ok: false, reason: 'throttled', retryAfterSeconds: Math.ceil(intervalMs / 1000) }
      : { ok: false, reason: 'invalid' };
  }
}
