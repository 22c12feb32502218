import type Redis from 'ioredis';
import type { Logger } from '../logger';

/** Where a caller stands in its window after a call: calls made in it (this one included) and when it ends. */
export interface CallCount {
  count: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
}

/** Counts calls per key in fixed windows (impact.com's calls per hour per account). */
export interface CallRateLimiter {
  /** Counts a call against `key`; the count in its window and when the window ends. */
  hit(key: string, windowMs: number): Promise<CallCount>;
}

/** In-process counters: correct for one instance. */
export class MemoryCallRateLimiter implements CallRateLimiter {
  private readonly windows = new Map<string, CallCount>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(key: string, windowMs: number): Promise<CallCount> {
    const now = this.now();
    if (now - this.lastSweep > windowMs) {
      this.lastSweep = now;
      for (const [k, window] of this.windows) if (window.resetAt <= now) this.windows.delete(k);
    }
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      const fresh = { count: 1, resetAt: now + windowMs };
      this.windows.set(key, fresh);
      return { ...fresh };
    }
    window.count += 1;
    return { ...window };
  }
}

/**
 * Counters in Redis (REDIS_URL), shared by every instance. If Redis cannot be reached the limiter fails
 * open — calls keep working, counted as the first of a window — and says so in the log, as the
 * failed-attempt limiter does.
 */
export class RedisCallRateLimiter implements CallRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly prefix = 'txedit:calls:',
  ) {}

  async hit(key: string, windowMs: number): Promise<CallCount> {
    const redisKey = this.prefix + key;
    try {
      // SET NX PX starts a window only when none runs; INCR counts inside it; PTTL says when it ends.
      const results =
        (await this.redis.pipeline().set(redisKey, '0', 'PX', windowMs, 'NX').incr(redisKey).pttl(redisKey).exec()) ??
        [];
      for (const [error] of results) if (error) throw error;
      const count = Number(results[1]?.[1] ?? 1);
      const ttl = Number(results[2]?.[1] ?? windowMs);
      return { count, resetAt: this.now() + (ttl > 0 ? ttl : windowMs) };
    } catch (error) {
      this.logger.warn({ err: error }, 'call-rate counters unavailable (failing open)');
      return { count: 1, resetAt: this.now() + windowMs };
    }
  }
}
