import type { CallRateLimiter } from '../auth/call-rate-limiter';
import type { FailureLimiter } from '../auth/failure-limiter';
import { clientKeyOf } from '../auth/ip-address';
import { FailureBrake } from '../modification/failure-brake';
import type { ApiCaller } from '../store/api-account-store';
import type { ApiAccountService } from './api-account-service';

const HOUR_MS = 3_600_000;

/** Where an account stands against its hourly limit, for the X-RateLimit-* headers. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
}

/** What a call's credentials come to. */
export type GateAnswer =
  | { kind: 'ok'; account: ApiCaller; rate: RateLimitState }
  | { kind: 'rate_limited'; account: ApiCaller; rate: RateLimitState }
  | { kind: 'unauthorized' }
  | { kind: 'braked'; retryAfterSeconds: number };

/**
 * The door of impact.com's API: HTTP Basic `AccountSID:AuthToken`, the failed-attempt brake of
 * /transaction.edit (a failed sign-in counts against the client's address, RATE_LIMIT_IP_FAILURES, in the
 * same limiter — Redis when configured), then the account's calls per hour (IMPACT_API_RATE_LIMIT_PER_HOUR).
 */
export class ImpactApiGate {
  private readonly brake: FailureBrake;

  constructor(
    private readonly deps: {
      accounts: Pick<ApiAccountService, 'authenticate'>;
      failures: FailureLimiter;
      ipFailures: number;
      calls: CallRateLimiter;
      callsPerHour: number;
    },
  ) {
    this.brake = new FailureBrake({ limiter: deps.failures, ipFailures: deps.ipFailures, campaignFailures: 0 });
  }

  /** Checks a call's `Authorization` header from `clientIp`, and counts it against its account's hour. */
  async check(clientIp: string, authorization: string | undefined): Promise<GateAnswer> {
    const keys = this.brake.ipKeys(clientKeyOf(clientIp));
    const refusal = await this.brake.refusal(keys);
    if (refusal && refusal.kind === 'temporary_failure')
      return { kind: 'braked', retryAfterSeconds: refusal.retryAfterSeconds ?? 1 };
    const credentials = basicCredentials(authorization);
    const account = credentials && (await this.deps.accounts.authenticate(credentials.sid, credentials.token));
    if (!account) {
      await this.brake.count({ kind: 'unauthorized' }, keys);
      return { kind: 'unauthorized' };
    }
    const { count, resetAt } = await this.deps.calls.hit(`impact-api:${account.accountSid}`, HOUR_MS);
    const rate = { limit: this.deps.callsPerHour, remaining: Math.max(0, this.deps.callsPerHour - count), resetAt };
    return count > this.deps.callsPerHour ? { kind: 'rate_limited', account, rate } : { kind: 'ok', account, rate };
  }

  /** The headers' values for a call that signed in as no account: the limit, untouched. */
  nominal(now: number): RateLimitState {
    return { limit: this.deps.callsPerHour, remaining: this.deps.callsPerHour, resetAt: now + HOUR_MS };
  }
}

/** SID and token of a `Basic` Authorization header, or null. */
export function basicCredentials(header: string | undefined): { sid: string; token: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { sid: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}
