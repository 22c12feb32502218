import type Redis from 'ioredis';
import type { Logger } from '../logger';

/** A counter key and the number of failures it may collect in one window. */
export interface LimitKey {
  key: string;
  limit: number;
}

/**
 * Counts failed attempts (wrong password, refused IP, unknown transaction) per key in fixed windows.
 * Past a key's limit, callers refuse without checking any password until the window ends.
 */
export interface FailureLimiter {
  /** Seconds until every over-limit key's window ends; 0 when none is over its limit. */
  blockedFor(keys: LimitKey[]): Promise<number>;
  /** Counts one failure against each key. */
  recordFailure(keys: LimitKey[]): Promise<void>;
  /**
   * One turn per `intervalMs` for `key`: 0 when this caller has it (the next one comes `intervalMs`
   * later), else the milliseconds until the next turn. Under a brake, a credential is still checked
   * this often, so that a right one is not refused for the whole window.
   */
  takeTurn(key: string, intervalMs: number): Promise<number>;
  close(): Promise<void>;
}

/** In-process counters: the default, correct for one instance. */
export class MemoryFailureLimiter implements FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  /** When each key's next turn comes (`takeTurn`). */
  private readonly turns = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async blockedFor(keys: LimitKey[]): Promise<number> {
    const now = this.now();
    let until = 0;
    for (const { key, limit } of keys) {
      const entry = this.windows.get(key);
      if (entry && entry.resetAt > now && entry.count >= limit) until = Math.max(until, entry.resetAt);
    }
    return until === 0 ? 0 : Math.ceil((until - now) / 1000);
  }

  async recordFailure(keys: LimitKey[]): Promise<void> {
    const now = this.now();
    this.sweep(now);
    for (const { key } of keys) {
      const entry = this.windows.get(key);
      if (!entry || entry.resetAt <= now) this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
      else entry.count += 1;
    }
  }

  async takeTurn(key: string, intervalMs: number): Promise<number> {
    const now = this.now();
    this.sweep(now);
    const next = this.turns.get(key);
    if (next !== undefined && next > now) return next - now;
    this.turns.set(key, now + intervalMs);
    return 0;
  }

  async close(): Promise<void> {}

  // Expired windows are dropped now and then, so a flood from many addresses cannot grow the maps forever.
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
    for (const [key, next] of this.turns) if (next <= now) this.turns.delete(key);
  }
}

/**
 * Counters in Redis, shared by every instance behind a load balancer (REDIS_URL). If Redis cannot be
 * reached the limiter fails open — modifications keep working, unlimited — and says so in the log:
 * losing the brake is better than refusing every merchant.
 */
export class RedisFailureLimiter implements FailureLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
    private readonly logger: Logger,
    private readonly prefix = 'txedit:failures:',
  ) {}

  async blockedFor(keys: LimitKey[]): Promise<number> {
    try {
      const pipeline = this.redis.pipeline();
      for (const { key } of keys) pipeline.get(this.prefix + key).pttl(this.prefix + key);
      const results = (await pipeline.exec()) ?? [];
      let longest = 0;
      keys.forEach(({ limit }, i) => {
        const count = Number(results[2 * i]?.[1] ?? 0);
        const ttl = Number(results[2 * i + 1]?.[1] ?? -2);
        if (count >= limit && ttl > 0) longest = Math.max(longest, ttl);
      });
      return longest === 0 ? 0 : Math.ceil(longest / 1000);
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit counters unavailable (failing open)');
      return 0;
    }
  }

  async recordFailure(keys: LimitKey[]): Promise<void> {
    try {
      const pipeline = this.redis.pipeline();
      // SET NX PX starts a window only when none runs; INCR then counts inside it.
      for (const { key } of keys)
        pipeline.set(this.prefix + key, '0', 'PX', this.windowMs, 'NX').incr(this.prefix + key);
      await pipeline.exec();
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit counters unavailable (failing open)');
    }
  }

  async takeTurn(key: string, intervalMs: number): Promise<number> {
    try {
      // SET NX PX: the first caller of an interval gets the turn; the key's PTTL is the wait of the others.
      const turnKey = `${this.prefix}turn:${key}`;
      const results =
        (await this.redis.pipeline().set(turnKey, '1', 'PX', intervalMs, 'NX').pttl(turnKey).exec()) ?? [];
      const [setError, set] = results[0] ?? [];
      if (setError) throw setError;
      if (set === 'OK') return 0;
      return Math.max(1, Number(results[1]?.[1] ?? 0));
    } catch (error) {
      this.logger.warn({ err: error }, 'rate-limit counters unavailable (failing open)');
      return 0;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
