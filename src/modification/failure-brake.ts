import type { FailureLimiter, LimitKey } from '../auth/failure-limiter';
import type { ModificationCommand } from './command';
import type { Outcome } from './outcome';

/** The failed-attempt limits of `/transaction.edit` (RATE_LIMIT_*): a limiter and its two limits. */
export interface FailureLimits {
  limiter: FailureLimiter;
  ipFailures: number;
  campaignFailures: number;
}

/**
 * The brake on failed attempts as the core applies it: a key per client address and per campaign, the
 * refusal once a key is over its limit, and the count of a failure. A limit of 0 (or no limits) brakes
 * nothing.
 */
export class FailureBrake {
  constructor(private readonly limits: FailureLimits | null) {}

  ipKeys(command: ModificationCommand): LimitKey[] {
    const { limits } = this;
    return limits && limits.ipFailures > 0 ? [{ key: `ip:${command.clientIp}`, limit: limits.ipFailures }] : [];
  }

  campaignKeys(campaignId: number): LimitKey[] {
    const { limits } = this;
    return limits && limits.campaignFailures > 0 ? [{ key: `campaign:${campaignId}`, limit: limits.campaignFailures }] : [];
  }

  /** Refusal when a key is over its limit: checked before any password is. */
  async refusal(keys: LimitKey[]): Promise<Outcome | null> {
    if (keys.length === 0 || !this.limits) return null;
    const seconds = await this.limits.limiter.blockedFor(keys);
    return seconds > 0 ? { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: seconds } : null;
  }

  /** Counts a failure against the keys, and hands the outcome back. */
  async count(outcome: Outcome, keys: LimitKey[]): Promise<Outcome> {
    if (keys.length > 0 && this.limits) await this.limits.limiter.recordFailure(keys);
    return outcome;
  }
}
