import type { FailureLimiter, LimitKey } from '../auth/failure-limiter';
import type { Outcome } from './outcome';

/** The failed-attempt limits of `/transaction.edit` (RATE_LIMIT_*): a limiter and its limits. */
export interface FailureLimits {
  limiter: FailureLimiter;
  ipFailures: number;
  campaignFailures: number;
  /** Credentials of strangers a braked campaign still has checked per minute (default 60). */
  brakedChecksPerMinute?: number;
}

/**
 * The brake on failed attempts as the core applies it: a key per client address and per campaign, the
 * refusal once a key is over its limit, and the count of a failure. A limit of 0 (or no limits) brakes
 * nothing.
 */
export class FailureBrake {
  constructor(private readonly limits: FailureLimits | null) {}

  /** The key of a client: `client` is its address's `clientKeyOf` (an IPv6 client counts by its /64). */
  ipKeys(client: string): LimitKey[] {
    const { limits } = this;
    return limits && limits.ipFailures > 0 ? [{ key: `ip:${client}`, limit: limits.ipFailures }] : [];
  }

  campaignKeys(campaignId: number): LimitKey[] {
    const { limits } = this;
    return limits && limits.campaignFailures > 0
      ? [{ key: `campaign:${campaignId}`, limit: limits.campaignFailures }]
      : [];
  }

  /** Refusal when a key is over its limit: checked before any password is. */
  async refusal(keys: LimitKey[]): Promise<Outcome | null> {
    if (keys.length === 0 || !this.limits) return null;
    const seconds = await this.limits.limiter.blockedFor(keys);
    return seconds > 0 ? { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: seconds } : null;
  }

  /**
   * Under a campaign's brake, a credential nothing vouches for is still checked, one at a time per
   * `60 / brakedChecksPerMinute` seconds for the campaign (shared through Redis): null when this one may
   * be, else `rate limited` with the seconds until the next turn. The brake slows guessing without
   * refusing the merchant's right password for the whole window.
   */
  async campaignTurn(campaignId: number): Promise<Outcome | null> {
    if (!this.limits) return null;
    const intervalMs = 60_000 / (this.limits.brakedChecksPerMinute ?? 60);
    const waitMs = await this.limits.limiter.takeTurn(`campaign-check:${campaignId}`, intervalMs);
    return waitMs > 0
      ? { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: Math.ceil(waitMs / 1000) }
      : null;
  }

  /** Counts a failure against the keys, and hands the outcome back. */
  async count(outcome: Outcome, keys: LimitKey[]): Promise<Outcome> {
    if (keys.length > 0 && this.limits) await this.limits.limiter.recordFailure(keys);
    return outcome;
  }
}
