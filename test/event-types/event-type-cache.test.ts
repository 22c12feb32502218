import type { EventType } from '../../src/core/event-type';
import { EventTypeCache } from '../../src/event-types/event-type-cache';

const type = (id: number, name: string): EventType => ({
  id,
  campaignId: 1,
  name,
  lockingDays: 30,
  payout: { type: 'fixed', value: 0n },
  dispositionCodes: [],
  createdAt: 0,
  updatedAt: 0,
});

describe('EventTypeCache: one read per event type for a while, none kept past a change or a failure', () => {
  function setUp() {
    let now = 0;
    const stored = new Map([[7, type(7, 'first')]]);
    const reads: number[] = [];
    let failing = false;
    const cache = new EventTypeCache(
      {
        get: async (id) => {
          reads.push(id);
          if (failing) throw new Error('database down');
          return stored.get(id) ?? null;
        },
      },
      { ttlMs: 1000, now: () => now },
    );
    return {
      cache,
      reads,
      stored,
      advance: (ms: number) => (now += ms),
      fail: (value: boolean) => (failing = value),
    };
  }

  it('reads an id once within the period, concurrent asks included, and again after it', async () => {
    const { cache, reads, advance } = setUp();
    await Promise.all([cache.get(7), cache.get(7), cache.get(8)]);
    advance(999);
    expect((await cache.get(7))?.name).toBe('first');
    expect(reads).toEqual([7, 8]);
    advance(1);
    await cache.get(7);
    expect(reads).toEqual([7, 8, 7]);
  });

  it('reads afresh after forget (a change through this process)', async () => {
    const { cache, stored } = setUp();
    await cache.get(7);
    stored.set(7, type(7, 'renamed'));
    expect((await cache.get(7))?.name).toBe('first');
    cache.forget(7);
    expect((await cache.get(7))?.name).toBe('renamed');
  });

  it('does not keep a failed read', async () => {
    const { cache, reads, fail } = setUp();
    fail(true);
    await expect(cache.get(7)).rejects.toThrow('database down');
    fail(false);
    expect((await cache.get(7))?.name).toBe('first');
    expect(reads).toEqual([7, 7]);
  });
});
