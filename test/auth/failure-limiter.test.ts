import Redis from 'ioredis';
import crypto from 'node:crypto';
import { MemoryFailureLimiter, RedisFailureLimiter } from '../../src/auth/failure-limiter';
import { createLogger } from '../../src/logger';

describe('MemoryFailureLimiter', () => {
  it('blocks a key once it reaches its limit, until the window ends', async () => {
    let now = 1_000_000;
    const limiter = new MemoryFailureLimiter(60_000, () => now);
    const keys = [{ key: 'ip:1.2.3.4', limit: 3 }];
    for (let i = 0; i < 2; i++) await limiter.recordFailure(keys);
    expect(await limiter.blockedFor(keys)).toBe(0);
    await limiter.recordFailure(keys);
    expect(await limiter.blockedFor(keys)).toBe(60);
    now += 59_000;
    expect(await limiter.blockedFor(keys)).toBe(1);
    now += 1_000;
    expect(await limiter.blockedFor(keys)).toBe(0);
    expect(await limiter.blockedFor([{ key: 'ip:5.6.7.8', limit: 3 }])).toBe(0);
  });

  it('gives a key one turn per interval, and says how long the others wait', async () => {
    let now = 1_000_000;
    const limiter = new MemoryFailureLimiter(60_000, () => now);
    expect(await limiter.takeTurn('campaign-check:7', 2_000)).toBe(0);
    expect(await limiter.takeTurn('campaign-check:7', 2_000)).toBe(2_000);
    expect(await limiter.takeTurn('campaign-check:8', 2_000)).toBe(0);
    now += 1_500;
    expect(await limiter.takeTurn('campaign-check:7', 2_000)).toBe(500);
    now += 500;
    expect(await limiter.takeTurn('campaign-check:7', 2_000)).toBe(0);
    expect(await limiter.takeTurn('campaign-check:7', 2_000)).toBe(2_000);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('RedisFailureLimiter (TEST_REDIS_URL)', () => {
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis(redisUrl as string, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('shares counts between instances, as several nodes behind a load balancer do', async () => {
    const logger = createLogger('silent');
    const prefix = `txedit:test:${crypto.randomBytes(4).toString('hex')}:`;
    const a = new RedisFailureLimiter(connect(), 30_000, logger, prefix);
    const b = new RedisFailureLimiter(connect(), 30_000, logger, prefix);
    const keys = [{ key: 'campaign:7', limit: 4 }];
    await a.recordFailure(keys);
    await b.recordFailure(keys);
    await a.recordFailure(keys);
    expect(await b.blockedFor(keys)).toBe(0);
    await b.recordFailure(keys);
    const seconds = await a.blockedFor(keys);
    expect(seconds).toBeGreaterThan(25);
    expect(seconds).toBeLessThanOrEqual(30);
  });

  it('shares turns between instances: one per interval for them all', async () => {
    const logger = createLogger('silent');
    const prefix = `txedit:test:${crypto.randomBytes(4).toString('hex')}:`;
    const a = new RedisFailureLimiter(connect(), 30_000, logger, prefix);
    const b = new RedisFailureLimiter(connect(), 30_000, logger, prefix);
    expect(await a.takeTurn('campaign-check:7', 20_000)).toBe(0);
    const wait = await b.takeTurn('campaign-check:7', 20_000);
    expect(wait).toBeGreaterThan(15_000);
    expect(wait).toBeLessThanOrEqual(20_000);
    expect(await b.takeTurn('campaign-check:8', 20_000)).toBe(0);
  });

  it('fails open when Redis cannot be reached', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const limiter = new RedisFailureLimiter(dead, 30_000, createLogger('silent'));
    await limiter.recordFailure([{ key: 'ip:x', limit: 1 }]);
    expect(await limiter.blockedFor([{ key: 'ip:x', limit: 1 }])).toBe(0);
    expect(await limiter.takeTurn('campaign-check:x', 1_000)).toBe(0);
    dead.disconnect();
  });
});
