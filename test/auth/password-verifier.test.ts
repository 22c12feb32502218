import bcrypt from 'bcrypt';
import { QueueFullError } from '../../src/auth/bounded-concurrency';
import { ClientBusyError, ComparePriority, PasswordVerifier } from '../../src/auth/password-verifier';

/** A hand-written fake compare: counts calls, matches when the password equals the "hash" text. */
function countingCompare() {
  const fake = {
    calls: 0,
    compare: async (password: string, hash: string) => (fake.calls++, hash === `hash:${password}`),
  };
  return fake;
}

describe('PasswordVerifier', () => {
  let now = 1_000_000;
  const build = (
    fake: ReturnType<typeof countingCompare>,
    overrides: Partial<ConstructorParameters<typeof PasswordVerifier>[0]> = {},
  ) =>
    new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 2,
      cacheTtlMs: 60_000,
      now: () => now,
      compare: fake.compare,
      ...overrides,
    });

  it('pays for a compare once per (campaign, hash, password) within the TTL', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(fake.calls).toBe(1);
    now += 60_001;
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(fake.calls).toBe(2);
  });

  it('never caches a failure', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(await verifier.verify(1, 'hash:pw', 'nope')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', 'nope')).toBe(false);
    expect(fake.calls).toBe(2);
  });

  it('misses when the stored hash changes (a rotated password) or for another campaign', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    await verifier.verify(1, 'hash:pw', 'pw');
    expect(await verifier.verify(1, 'hash:new', 'pw')).toBe(false);
    expect(await verifier.verify(2, 'hash:pw', 'pw')).toBe(true);
    expect(fake.calls).toBe(3);
  });

  it('keeps at most cacheSize entries, dropping the oldest', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    for (const campaign of [1, 2, 3]) await verifier.verify(campaign, 'hash:pw', 'pw');
    await verifier.verify(1, 'hash:pw', 'pw'); // evicted: compared again
    await verifier.verify(3, 'hash:pw', 'pw'); // still cached
    expect(fake.calls).toBe(4);
  });

  it('refuses a missing password, a missing hash and an over-long password without comparing', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(await verifier.verify(1, null, 'pw')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', null)).toBe(false);
    const long = 'x'.repeat(73);
    expect(await verifier.verify(1, `hash:${long}`, long)).toBe(false);
    expect(fake.calls).toBe(0);
  });

  it('spends exactly one compare for an unknown id', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    await verifier.spendCompareTime();
    expect(fake.calls).toBe(1);
  });

  it('uses real bcrypt by default', async () => {
    const verifier = new PasswordVerifier({ bcryptCost: 4, cacheSize: 10, cacheTtlMs: 1000 });
    const hash = await bcrypt.hash('real', 4);
    expect(await verifier.verify(1, hash, 'real')).toBe(true);
    expect(await verifier.verify(1, hash, 'fake')).toBe(false);
  });
});

describe('PasswordVerifier: what the cache knows without a compare (isKnown, mayBeKnown)', () => {
  let now = 5_000_000;
  const build = (
    fake: ReturnType<typeof countingCompare>,
    overrides: Partial<ConstructorParameters<typeof PasswordVerifier>[0]> = {},
  ) =>
    new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 60_000,
      now: () => now,
      compare: fake.compare,
      ...overrides,
    });

  it('knows nothing before any compare, and never compares to find out', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(verifier.isKnown(1, 'hash:pw', 'pw')).toBe(false);
    expect(verifier.mayBeKnown('pw')).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls).toBe(0);
  });

  it('knows a password after a successful verify: isKnown for that campaign and hash only, mayBeKnown whatever the campaign', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(verifier.isKnown(1, 'hash:pw', 'pw')).toBe(true);
    expect(verifier.isKnown(2, 'hash:pw', 'pw')).toBe(false);
    expect(verifier.isKnown(1, 'hash:rotated', 'pw')).toBe(false);
    expect(verifier.isKnown(1, 'hash:pw', 'other')).toBe(false);
    expect(verifier.isKnown(1, null, 'pw')).toBe(false);
    expect(verifier.isKnown(1, 'hash:pw', null)).toBe(false);
    expect(verifier.mayBeKnown('pw')).toBe(true);
    expect(verifier.mayBeKnown('other')).toBe(false);
    expect(verifier.mayBeKnown(null)).toBe(false);
    // None of the misses above ran a compare: only the verify did.
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls).toBe(1);
  });

  it('knows nothing after a failed verify', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    expect(await verifier.verify(1, 'hash:pw', 'wrong')).toBe(false);
    expect(verifier.isKnown(1, 'hash:pw', 'wrong')).toBe(false);
    expect(verifier.mayBeKnown('wrong')).toBe(false);
  });

  it('forgets a password when its entry expires', async () => {
    const fake = countingCompare();
    const verifier = build(fake);
    await verifier.verify(1, 'hash:pw', 'pw');
    now += 59_999;
    expect([verifier.isKnown(1, 'hash:pw', 'pw'), verifier.mayBeKnown('pw')]).toEqual([true, true]);
    now += 1;
    expect([verifier.isKnown(1, 'hash:pw', 'pw'), verifier.mayBeKnown('pw')]).toEqual([false, false]);
  });

  it.each([
    ['cacheSize 0', { cacheSize: 0 }],
    ['TTL 0', { cacheTtlMs: 0 }],
  ])('knows nothing when the cache is off (%s)', async (_what, off) => {
    const fake = countingCompare();
    const verifier = build(fake, off);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect([verifier.isKnown(1, 'hash:pw', 'pw'), verifier.mayBeKnown('pw')]).toEqual([false, false]);
  });

  it('still vouches for a credential whose cache entry expired (isVouchedFor), for its campaign and hash only, until vouchedMs', async () => {
    const fake = countingCompare();
    const verifier = build(fake, { vouchedMs: 3_600_000 });
    expect(verifier.isVouchedFor(1, 'hash:pw', 'pw')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', 'wrong')).toBe(false);
    expect(verifier.isVouchedFor(1, 'hash:pw', 'wrong')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    now += 60_000;
    expect(verifier.isKnown(1, 'hash:pw', 'pw')).toBe(false);
    expect(verifier.isVouchedFor(1, 'hash:pw', 'pw')).toBe(true);
    expect(verifier.isVouchedFor(2, 'hash:pw', 'pw')).toBe(false);
    expect(verifier.isVouchedFor(1, 'hash:rotated', 'pw')).toBe(false);
    expect(verifier.isVouchedFor(1, null, 'pw')).toBe(false);
    // Asking never compares; the verify after expiry does (vouching answers nothing by itself).
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.calls).toBe(2);
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(fake.calls).toBe(3);
    // Vouched for an hour from the first success (a success within the first tenth renews nothing).
    now += 3_600_000 - 60_001;
    expect(verifier.isVouchedFor(1, 'hash:pw', 'pw')).toBe(true);
    now += 1;
    expect(verifier.isVouchedFor(1, 'hash:pw', 'pw')).toBe(false);
  });

  it('vouches for a credential while its compare is under way, and not once it failed', async () => {
    let finish: (ok: boolean) => void = () => undefined;
    const verifier = build(countingCompare(), {
      compare: () => new Promise<boolean>((resolve) => (finish = resolve)),
    });
    const checking = verifier.verify(1, 'hash:pw', 'guess');
    await new Promise((resolve) => setImmediate(resolve));
    expect(verifier.isVouchedFor(1, 'hash:pw', 'guess')).toBe(true);
    finish(false);
    expect(await checking).toBe(false);
    expect(verifier.isVouchedFor(1, 'hash:pw', 'guess')).toBe(false);
  });

  it('keeps at most cacheSize passwords for mayBeKnown, dropping the least recently verified', async () => {
    const fake = countingCompare();
    const verifier = build(fake, { cacheSize: 2 });
    for (const password of ['one', 'two', 'three']) await verifier.verify(1, `hash:${password}`, password);
    expect(['one', 'two', 'three'].map((password) => verifier.mayBeKnown(password))).toEqual([false, true, true]);
    // The same password verified for another campaign counts once, and becomes the most recent.
    await verifier.verify(2, 'hash:two', 'two');
    await verifier.verify(1, 'hash:four', 'four');
    expect(['two', 'three', 'four'].map((password) => verifier.mayBeKnown(password))).toEqual([true, false, true]);
  });
});

describe('PasswordVerifier under concurrency', () => {
  it('runs one compare for a burst of identical requests, and renews a busy entry ahead of expiry', async () => {
    let now = 0;
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const verifier = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 100_000,
      now: () => now,
      compare: async (password, hash) => {
        calls++;
        await gate;
        return hash === `hash:${password}`;
      },
    });
    const burst = Array.from({ length: 20 }, () => verifier.verify(1, 'hash:pw', 'pw'));
    release();
    expect(await Promise.all(burst)).toEqual(Array(20).fill(true));
    expect(calls).toBe(1);
    now = 90_000; // within the last fifth of the entry's life: served from cache, renewed in the background
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    now = 150_000; // past the first expiry, inside the renewed one
    expect(await verifier.verify(1, 'hash:pw', 'pw')).toBe(true);
    expect(calls).toBe(2);
  });
});

/** A verifier whose compares (all refusing) wait for `release()`, counting how many started; two per client. */
function gatedVerifier(options: { maxConcurrentCompares?: number; maxQueuedCompares?: number } = {}) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const counted = { calls: 0 };
  const verifier = new PasswordVerifier({
    bcryptCost: 4,
    cacheSize: 10,
    cacheTtlMs: 10_000,
    maxComparesPerClient: 2,
    ...options,
    compare: async () => {
      counted.calls++;
      await gate;
      return false;
    },
  });
  return { verifier, release: () => release(), started: () => counted.calls };
}

describe('PasswordVerifier per-client cap', () => {
  it('holds a client’s third concurrent uncached compare until one ends, refusing it once the client failed; identical ones join, other clients go on', async () => {
    const { verifier, release, started } = gatedVerifier();
    const first = verifier.verify(1, 'hash:pw', 'guess-1', 'attacker');
    const second = verifier.verify(1, 'hash:pw', 'guess-2', 'attacker');
    const joiner = verifier.verify(1, 'hash:pw', 'guess-1', 'attacker'); // same compare as the first: joins it
    let thirdSettled = false;
    const third = verifier.verify(1, 'hash:pw', 'guess-3', 'attacker').finally(() => (thirdSettled = true));
    const other = verifier.verify(1, 'hash:pw', 'guess-4', 'merchant');
    await until(() => started() === 3);
    // The third waits for one of its client's compares to end: not refused, not compared.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(thirdSettled).toBe(false);
    expect(started()).toBe(3);
    release();
    // Its client failed meanwhile: refused when its turn comes, without a compare.
    await expect(third).rejects.toBeInstanceOf(ClientBusyError);
    expect(await Promise.all([first, second, joiner, other])).toEqual([false, false, false, false]);
    expect(started()).toBe(3);
    // The share is given back when the compares end.
    expect(await verifier.verify(1, 'hash:pw', 'guess-5', 'attacker')).toBe(false);
  });

  it('refuses a client that failed lately its third concurrent compare at once', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const verifier = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 10_000,
      maxComparesPerClient: 2,
      lowPriority: false,
      compare: async (password) => {
        calls++;
        if (password !== 'quick') await gate;
        return false;
      },
    });
    expect(await verifier.verify(1, 'hash:pw', 'quick', 'attacker')).toBe(false); // a suspect from now on
    const pending = [
      verifier.verify(1, 'hash:pw', 'guess-1', 'attacker'),
      verifier.verify(1, 'hash:pw', 'guess-2', 'attacker'),
    ];
    await until(() => calls === 2); // the suspects' compares run one at a time: the second waits in that queue
    await expect(verifier.verify(1, 'hash:pw', 'guess-3', 'attacker')).rejects.toBeInstanceOf(ClientBusyError);
    release();
    expect(await Promise.all(pending)).toEqual([false, false]);
    expect(calls).toBe(3);
  });

  it('keeps at most maxQueuedCompares of one client’s checks waiting for a turn, refusing the next at once', async () => {
    const { verifier, release, started } = gatedVerifier({ maxQueuedCompares: 2 });
    const underWay = [verifier.verify(1, 'hash:pw', 'a', 'crm'), verifier.verify(1, 'hash:pw', 'b', 'crm')];
    const waiting = [verifier.verify(1, 'hash:pw', 'c', 'crm'), verifier.verify(1, 'hash:pw', 'd', 'crm')];
    await until(() => started() >= 1);
    await expect(verifier.verify(1, 'hash:pw', 'e', 'crm')).rejects.toBeInstanceOf(ClientBusyError);
    release();
    expect(await Promise.all(underWay)).toEqual([false, false]);
    // Its compares failed: the waiting checks are refused when their turn comes.
    for (const check of waiting) await expect(check).rejects.toBeInstanceOf(ClientBusyError);
  });

  it('lets a merchant check many campaigns at once from one address: its checks wait their turn, never refused', async () => {
    let underWay = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const verifier = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 100,
      cacheTtlMs: 10_000,
      maxComparesPerClient: 2,
      maxConcurrentCompares: 10,
      lowPriority: false,
      compare: async (password, hash) => {
        most = Math.max(most, ++underWay);
        await new Promise<void>((resolve) => releases.push(resolve));
        underWay--;
        return hash === `hash:${password}`;
      },
    });
    // Ten campaigns, five requests each, all at once from one address (a CRM after the server restarted).
    const checks = [];
    for (let campaign = 1; campaign <= 10; campaign++)
      for (let request = 0; request < 5; request++)
        checks.push(verifier.verify(campaign, `hash:pw-${campaign}`, `pw-${campaign}`, 'merchant'));
    let settled = 0;
    checks.forEach((check) => void check.finally(() => settled++));
    // Release compares one by one as they start, until every check has its answer.
    for (let turn = 0; settled < checks.length && turn < 1000; turn++) {
      await until(() => releases.length > 0 || settled === checks.length);
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(checks)).toEqual(checks.map(() => true));
    // Within the share: never more than two compares of this client at once, one per campaign.
    expect(most).toBeLessThanOrEqual(2);
    expect(verifier.isKnown(10, 'hash:pw-10', 'pw-10')).toBe(true);
  });
});

describe('PasswordVerifier per-client cap for unknown transactions', () => {
  it('counts the compare time spent on an unknown id against the same client share', async () => {
    const { verifier, release, started } = gatedVerifier({ maxConcurrentCompares: 10 });
    // The dummy hash is made (really, at cost 4) before any share is taken: wait until a compare runs on it.
    const unshared = verifier.spendCompareTime();
    await until(() => started() === 1);
    const unknownIds = [verifier.spendCompareTime('attacker'), verifier.spendCompareTime('attacker')];
    await until(() => started() === 3);
    // Two compares under way for this client: a third (unknown id or wrong password) waits for a turn, and
    // is refused when it comes, an unknown id counting as a failure.
    const third = verifier.spendCompareTime('attacker');
    const guess = verifier.verify(1, 'hash:pw', 'guess', 'attacker');
    const other = verifier.spendCompareTime('merchant');
    release();
    await Promise.all([unshared, ...unknownIds, other]);
    await expect(third).rejects.toBeInstanceOf(ClientBusyError);
    await expect(guess).rejects.toBeInstanceOf(ClientBusyError);
    expect(started()).toBe(4); // the first (unshared) call, the attacker's two, the merchant's
    await expect(verifier.spendCompareTime('attacker')).resolves.toBeUndefined();
  });
});

/** Waits (a bounded number of timer turns) for a condition that other promises make true. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 5000) throw new Error('condition never became true');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('PasswordVerifier: compares of clients that failed lately run at low priority', () => {
  let now = 9_000_000;
  /** Normal and low-priority compares counted apart; both match when the password equals the "hash" text. */
  const build = (overrides: Partial<ConstructorParameters<typeof PasswordVerifier>[0]> = {}) => {
    const normal = countingCompare();
    const low = countingCompare();
    const verifier = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 60_000,
      suspectMs: 900_000,
      now: () => now,
      compare: normal.compare,
      suspectCompare: low.compare,
      ...overrides,
    });
    return { verifier, normal, low };
  };

  it('runs a client’s first check at normal priority and its checks after a failure at low priority, until the window ends', async () => {
    const { verifier, normal, low } = build();
    expect(await verifier.verify(1, 'hash:pw', 'guess-1', '203.0.113.9')).toBe(false);
    expect([normal.calls, low.calls]).toEqual([1, 0]);
    expect(await verifier.verify(1, 'hash:pw', 'guess-2', '203.0.113.9')).toBe(false);
    // Even its right password: it is compared (and then cached) at low priority.
    expect(await verifier.verify(1, 'hash:pw', 'pw', '203.0.113.9')).toBe(true);
    expect([normal.calls, low.calls]).toEqual([1, 2]);
    now += 900_000;
    expect(await verifier.verify(2, 'hash:other', 'guess-3', '203.0.113.9')).toBe(false);
    expect([normal.calls, low.calls]).toEqual([2, 2]);
  });

  it('runs a fresh client’s second compare at low priority while its first is under way', async () => {
    const { verifier, normal, low } = build();
    const both = [
      verifier.verify(1, 'hash:pw', 'pw', '198.51.100.7'),
      verifier.verify(2, 'hash:other', 'other', '198.51.100.7'),
    ];
    expect(await Promise.all(both)).toEqual([true, true]);
    expect([normal.calls, low.calls]).toEqual([1, 1]);
    // Neither failed: its next compare, alone, is at normal priority again.
    expect(await verifier.verify(3, 'hash:third', 'third', '198.51.100.7')).toBe(true);
    expect([normal.calls, low.calls]).toEqual([2, 1]);
  });

  it('keeps other clients, and checks without a client (batches, the admin API), at normal priority', async () => {
    const { verifier, normal, low } = build();
    await verifier.verify(1, 'hash:pw', 'guess', '203.0.113.9');
    await verifier.verify(1, 'hash:pw', 'guess', '203.0.113.9');
    expect(await verifier.verify(1, 'hash:pw', 'pw', '198.51.100.7')).toBe(true);
    expect(await verifier.verify(1, 'hash:pw', 'guess')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', 'guess')).toBe(false);
    expect([normal.calls, low.calls]).toEqual([4, 1]);
  });

  it('counts an unknown id (compare time spent) as a failure, and spends the next one at low priority', async () => {
    const { verifier, normal, low } = build();
    await verifier.spendCompareTime('203.0.113.9');
    expect([normal.calls, low.calls]).toEqual([1, 0]);
    await verifier.spendCompareTime('203.0.113.9');
    expect(await verifier.verify(1, 'hash:pw', 'guess', '203.0.113.9')).toBe(false);
    expect([normal.calls, low.calls]).toEqual([1, 2]);
  });

  it('says a check would be refused as busy only for a suspect with its share under way, none of it for this password', async () => {
    // Low-priority compares held until released, so that they stay under way (they run one at a time).
    const held: Array<() => void> = [];
    const { verifier } = build({
      maxComparesPerClient: 2,
      suspectCompare: (password, hash) =>
        new Promise<boolean>((resolve) => held.push(() => resolve(hash === `hash:${password}`))),
    });
    const finish = async <T>(checks: Array<Promise<T>>): Promise<T[]> => {
      let settled = false;
      const all = Promise.all(checks).finally(() => (settled = true));
      while (!settled) {
        for (const release of held.splice(0)) release();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return all;
    };
    const attacker = '203.0.113.9';
    // A fresh client is never refused early.
    expect(verifier.wouldBeBusy(attacker, 'guess-1')).toBe(false);
    expect(await verifier.verify(1, 'hash:pw', 'guess-1', attacker)).toBe(false);
    // A suspect with less than its share under way: not busy.
    const one = verifier.verify(1, 'hash:pw', 'guess-2', attacker);
    expect(verifier.wouldBeBusy(attacker, 'guess-3')).toBe(false);
    const two = verifier.verify(1, 'hash:pw', 'pw', attacker);
    // Its share under way: another password would be refused at its compare…
    expect(verifier.wouldBeBusy(attacker, 'guess-3')).toBe(true);
    await expect(verifier.verify(2, 'hash:x', 'guess-3', attacker)).rejects.toBeInstanceOf(ClientBusyError);
    // …but not a password being compared (a merchant's corrected one waits for that compare), nor another
    // client, nor a check without a client, nor no password at all.
    expect(verifier.wouldBeBusy(attacker, 'pw')).toBe(false);
    expect(verifier.wouldBeBusy(attacker, 'guess-2')).toBe(false);
    expect(verifier.wouldBeBusy('198.51.100.7', 'guess-3')).toBe(false);
    expect(verifier.wouldBeBusy(undefined, 'guess-3')).toBe(false);
    expect(verifier.wouldBeBusy(attacker, null)).toBe(false);
    expect(await finish([one, two])).toEqual([false, true]);
    // Nothing under way any more.
    expect(verifier.wouldBeBusy(attacker, 'guess-3')).toBe(false);
    const more = [
      verifier.verify(1, 'hash:pw', 'guess-4', attacker),
      verifier.verify(1, 'hash:pw', 'guess-5', attacker),
    ];
    expect(verifier.wouldBeBusy(attacker, 'guess-6')).toBe(true);
    // A password the cache knows (verified above) is never refused early.
    expect(verifier.wouldBeBusy(attacker, 'pw')).toBe(false);
    expect(await finish(more)).toEqual([false, false]);
    // Once the window is over the client is no longer a suspect.
    now += 900_000;
    const later = [
      verifier.verify(3, 'hash:pw3', 'guess-7', attacker),
      verifier.verify(3, 'hash:pw3', 'guess-8', attacker),
    ];
    expect(verifier.wouldBeBusy(attacker, 'guess-9')).toBe(false);
    await finish(later);
  });

  it('forgets the oldest suspect first when maxSuspects are remembered', async () => {
    const { verifier, normal, low } = build({ maxSuspects: 2 });
    for (const client of ['a', 'b', 'c']) await verifier.verify(1, 'hash:pw', 'guess', client);
    expect([normal.calls, low.calls]).toEqual([3, 0]);
    await verifier.verify(1, 'hash:pw', 'guess', 'a'); // forgotten: normal priority, and remembered again
    await verifier.verify(1, 'hash:pw', 'guess', 'c');
    expect([normal.calls, low.calls]).toEqual([4, 1]);
  });

  it('gives low-priority compares their own gate: a stalled one never holds up a first check', async () => {
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const { verifier, normal } = build({
      maxConcurrentCompares: 1,
      suspectCompare: async () => {
        await stalled;
        return false;
      },
    });
    await verifier.verify(1, 'hash:pw', 'guess', '203.0.113.9');
    const slow = verifier.verify(1, 'hash:pw', 'guess-2', '203.0.113.9');
    expect(await verifier.verify(1, 'hash:pw', 'pw', '198.51.100.7')).toBe(true);
    expect(normal.calls).toBe(2);
    release();
    expect(await slow).toBe(false);
  });

  it('keeps the compares of suspects, together, within suspectShare of one core; first checks are not paced', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] });
    try {
      const clock = { now: 0 };
      const started: string[] = [];
      const timed = (name: string) => async (password: string, hash: string) => {
        started.push(`${name}:${password}`);
        clock.now += 100;
        return hash === `hash:${password}`;
      };
      const verifier = new PasswordVerifier({
        bcryptCost: 4,
        cacheSize: 10,
        cacheTtlMs: 60_000,
        suspectShare: 0.25,
        clock: () => clock.now,
        compare: timed('normal'),
        suspectCompare: timed('low'),
      });
      const turn = () =>
        new Promise((resolve) => jest.requireActual<typeof import('timers')>('timers').setImmediate(resolve));
      for (const client of ['a', 'b']) await verifier.verify(1, 'hash:pw', `first-${client}`, client);
      const a = verifier.verify(1, 'hash:pw', 'again-a', 'a');
      const b = verifier.verify(1, 'hash:pw', 'again-b', 'b');
      expect(await a).toBe(false);
      await turn();
      // a's compare took 100 ms: b's waits 300 ms more, while a fresh client's first check runs at once.
      expect(await verifier.verify(1, 'hash:pw', 'pw', 'c')).toBe(true);
      expect(started).toEqual(['normal:first-a', 'normal:first-b', 'low:again-a', 'normal:pw']);
      jest.advanceTimersByTime(300);
      expect(await b).toBe(false);
      expect(started).toEqual(['normal:first-a', 'normal:first-b', 'low:again-a', 'normal:pw', 'low:again-b']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs every compare at normal priority with lowPriority off', async () => {
    const normal = countingCompare();
    const verifier = new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 60_000,
      compare: normal.compare,
      lowPriority: false,
    });
    for (let i = 0; i < 3; i++) expect(await verifier.verify(1, 'hash:pw', 'guess', '203.0.113.9')).toBe(false);
    expect(normal.calls).toBe(3);
    expect(verifier.lowPriorityPid).toBeUndefined();
  });

  it('by default compares a suspect’s password with real bcrypt in a process of its own', async () => {
    const verifier = new PasswordVerifier({ bcryptCost: 4, cacheSize: 10, cacheTtlMs: 1000 });
    try {
      const hash = await bcrypt.hash('real', 4);
      expect(await verifier.verify(1, hash, 'fake', '203.0.113.9')).toBe(false);
      expect(verifier.lowPriorityPid).toBeUndefined();
      expect(await verifier.verify(1, hash, 'fake-2', '203.0.113.9')).toBe(false);
      expect(await verifier.verify(1, hash, 'real', '203.0.113.9')).toBe(true);
      expect(verifier.lowPriorityPid).toEqual(expect.any(Number));
      expect(verifier.lowPriorityPid).not.toBe(process.pid);
    } finally {
      await verifier.close();
    }
    expect(verifier.lowPriorityPid).toBeUndefined();
  });
});

describe('PasswordVerifier: clients and campaigns with a recent success go first', () => {
  let now = 20_000_000;
  /** Compares that wait to be released one by one, in the order they started (matching when password = "hash" text). */
  const heldCompares = () => {
    const started: string[] = [];
    const held: Array<() => void> = [];
    const compare = (password: string, hash: string) =>
      new Promise<boolean>((resolve) => {
        started.push(password);
        held.push(() => resolve(hash === `hash:${password}`));
      });
    const releaseNext = async () => {
      await until(() => held.length > 0);
      held.shift()?.();
    };
    return { started, compare, releaseNext };
  };
  const build = (overrides: Partial<ConstructorParameters<typeof PasswordVerifier>[0]> = {}) =>
    new PasswordVerifier({
      bcryptCost: 4,
      cacheSize: 10,
      cacheTtlMs: 60_000,
      knownMs: 600_000,
      lowPriority: false,
      now: () => now,
      compare: countingCompare().compare,
      ...overrides,
    });

  it('knows a client and a campaign after a success, cached or compared, until knownMs have passed', async () => {
    const verifier = build();
    expect([verifier.priorityOf('198.51.100.7', 1), verifier.isKnownClientOf('198.51.100.7', 1)]).toEqual([
      ComparePriority.unknown,
      false,
    ]);
    expect(await verifier.verify(1, 'hash:pw', 'guess', '198.51.100.7')).toBe(false);
    expect(verifier.priorityOf('198.51.100.7', 1)).toBe(ComparePriority.unknown); // a failure makes nothing known
    expect(await verifier.verify(1, 'hash:pw', 'pw', '198.51.100.7')).toBe(true);
    expect(verifier.isKnownClientOf('198.51.100.7', 1)).toBe(true);
    expect(verifier.priorityOf('198.51.100.7', 1)).toBe(ComparePriority.knownClient);
    // A success buys a client no place on another campaign's compares (a guesser's own campaign would).
    expect([verifier.isKnownClientOf('198.51.100.7', 5), verifier.priorityOf('198.51.100.7', 5)]).toEqual([
      false,
      ComparePriority.unknown,
    ]);
    // An unknown id's compare time queues with strangers, whoever spends it.
    expect(verifier.priorityOf('198.51.100.7', null)).toBe(ComparePriority.unknown);
    expect(verifier.priorityOf('203.0.113.9', 1)).toBe(ComparePriority.knownCampaign);
    expect(verifier.priorityOf('203.0.113.9', 5)).toBe(ComparePriority.unknown);
    expect(verifier.priorityOf('203.0.113.9', null)).toBe(ComparePriority.unknown);
    // No client (a batch, the admin API): first.
    expect(verifier.priorityOf(undefined, 5)).toBe(ComparePriority.knownClient);
    // A cached credential makes its client known too, by verify or by isKnown.
    expect(await verifier.verify(1, 'hash:pw', 'pw', '192.0.2.1')).toBe(true);
    expect(verifier.isKnown(1, 'hash:pw', 'pw', '192.0.2.2')).toBe(true);
    expect([verifier.isKnownClientOf('192.0.2.1', 1), verifier.isKnownClientOf('192.0.2.2', 1)]).toEqual([true, true]);
    now += 600_000;
    expect([verifier.isKnownClientOf('198.51.100.7', 1), verifier.priorityOf('203.0.113.9', 1)]).toEqual([
      false,
      ComparePriority.unknown,
    ]);
  });

  it('forgets the least recently successful client first when maxKnown are remembered', async () => {
    const verifier = build({ maxKnown: 2 });
    for (const client of ['a', 'b', 'c']) await verifier.verify(1, 'hash:pw', 'pw', client);
    expect(['a', 'b', 'c'].map((client) => verifier.isKnownClientOf(client, 1))).toEqual([false, true, true]);
  });

  it('serves a known client’s first compare, then a known campaign’s, ahead of strangers queued before them', async () => {
    const held = heldCompares();
    const verifier = build({ maxConcurrentCompares: 1, compare: held.compare });
    const known = verifier.verify(1, 'hash:pw1', 'pw1', '192.0.2.1');
    await held.releaseNext();
    expect(await known).toBe(true);
    // A flood from many addresses, one wrong password each, on campaign 9 (no success there).
    const flood = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((client, i) =>
      verifier.verify(9, 'hash:pw9', `guess-${i}`, client),
    );
    await until(() => held.started.length === 2);
    // The known client guessing on campaign 9 (its success was on campaign 1: no place ahead there), a
    // stranger on campaign 1 (known), and the known client on campaign 1 after a password change (a new
    // hash: its first compare for it).
    const bought = verifier.verify(9, 'hash:pw9', 'guess-y', '192.0.2.1');
    const campaignKnown = verifier.verify(1, 'hash:pw1', 'guess-x', '198.51.100.8');
    const merchant = verifier.verify(1, 'hash:pw1b', 'pw1b', '192.0.2.1');
    for (let i = 0; i < 6; i++) await held.releaseNext();
    expect(await Promise.all([merchant, campaignKnown, bought, ...flood])).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(held.started).toEqual(['pw1', 'guess-0', 'pw1b', 'guess-x', 'guess-1', 'guess-2', 'guess-y']);
  });

  it('never answers a known client `server busy` because strangers filled their queue', async () => {
    const held = heldCompares();
    const verifier = build({ maxConcurrentCompares: 1, maxQueuedCompares: 2, compare: held.compare });
    const known = verifier.verify(1, 'hash:pw1', 'pw1', '192.0.2.1');
    await held.releaseNext();
    await known;
    const flood = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((client, i) =>
      verifier.verify(9, 'hash:pw9', `guess-${i}`, client),
    );
    await until(() => held.started.length === 2);
    // One running, two waiting: the strangers' queue is full.
    await expect(verifier.verify(9, 'hash:pw9', 'guess-3', '203.0.113.4')).rejects.toBeInstanceOf(QueueFullError);
    // The known client's first compare of a changed password on its campaign.
    const merchant = verifier.verify(1, 'hash:pw1b', 'pw1b', '192.0.2.1');
    for (let i = 0; i < 4; i++) await held.releaseNext();
    expect(await Promise.all([merchant, ...flood])).toEqual([true, false, false, false]);
  });
});
