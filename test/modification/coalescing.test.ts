import crypto from 'node:crypto';
import type { Services } from '../../src/composition';
import type { ModificationCommand, RequestedChanges, TransactionIdentifier } from '../../src/modification/command';
import { describeOutcome, type Outcome } from '../../src/modification/outcome';
import { mysqlDriver, sqliteDriver } from '../../src/store/sql-drivers';
import type { Transaction } from '../../src/core/transaction';
import { testEngines, type TestDatabase } from '../support/databases';
import { closeServices, servicesOnTestDatabase } from '../support/core-services';
import { buildAffiliate, buildCampaign, buildTransaction, twoDaysAgo } from '../support/factories';
import { rollUpIncluding, statisticsMismatches } from '../faults/fault-helpers';
import { LOCK_RETRY_ATTEMPTS } from '../../src/store/lock-retries';
import { seededRandom } from '../support/seeded-random';

// Concurrent edits whose password passed a compare lately are coalesced: while a unit of work is in flight,
// arriving ones queue, and the next unit takes them all. These tests hold the coalescing path to what each
// request would have got alone, by running the same random commands on twin transactions one by one in
// the order they committed, and break its units on purpose (deadlocks, lost connections before and after
// the COMMIT) to see that nothing is lost or applied twice.

const runId = crypto.randomBytes(4).toString('hex');
let requests = 0;
let addresses = 0;
/** A client address no other command uses: the per-IP failure limit never decides an answer here. */
const freshIp = () => `198.18.${Math.floor(++addresses / 250)}.${addresses % 250}`;

function command(
  identifier: TransactionIdentifier,
  password: string | null,
  changes: RequestedChanges,
  reason: string | null = null,
): ModificationCommand {
  return {
    identifier,
    changes,
    password,
    reason,
    executeAffiliatePixel: false,
    clientIp: freshIp(),
    requestId: `coalesce-${runId}-${++requests}`,
    source: 'api',
  };
}

/** What a caller is told, without the ids that differ between twins. */
function answerOf(outcome: Outcome) {
  if (outcome.kind !== 'applied') return { kind: outcome.kind, message: describeOutcome(outcome).message };
  const { affiliatePayout, merchantRevenue, approved, modificationCount } = outcome.transaction;
  return { kind: 'applied', affiliatePayout, merchantRevenue, approved, modificationCount };
}

describe.each(testEngines())('coalescing concurrent edits on %s', (engine) => {
  let database: TestDatabase;
  let services: Services;

  beforeAll(async () => {
    ({ database, services } = await servicesOnTestDatabase(engine));
  });
  afterAll(() => closeServices(services, database));

  const core = () => services.modifications;
  const knex = () => services.db.knex;
  const history = (transactionId: number) => services.stores.modifications.listForTransaction(transactionId);
  const stored = async (id: number) => (await services.stores.transactions.getById(id))!;

  /**
   * A campaign whose password is vouched for (one edit applied), with `pairs` twin transactions (same
   * values, same hour), a closed campaign's twins, and twins in the current hour (not rolled up yet).
   */
  async function twins(pairs: number) {
    const campaign = await buildCampaign(services);
    const closed = await buildCampaign(services, { allowExternalModification: false });
    const affiliate = await buildAffiliate(services);
    const occurredAt = twoDaysAgo();
    const fields = { affiliatePayout: '10.00', merchantRevenue: '100.00', approved: true, occurredAt };
    const pair = async (owner: typeof campaign, at = occurredAt) => ({
      a: await buildTransaction(services, owner, affiliate, { ...fields, occurredAt: at }),
      b: await buildTransaction(services, owner, affiliate, { ...fields, occurredAt: at }),
    });
    const open = [];
    for (let i = 0; i < pairs; i++) open.push(await pair(campaign));
    const shut = await pair(closed);
    const pending = await pair(campaign, Date.now());
    const warmUp = await buildTransaction(services, campaign, affiliate, { occurredAt });
    await rollUpIncluding(services, occurredAt);
    const first = await core().modify(
      command({ kind: 'transaction_id', transactionId: warmUp.id, campaignId: null }, campaign.password, {
        affiliatePayout: 1n,
      }),
    );
    expect(first.kind).toBe('applied');
    return { campaign, closed, open, shut, pending };
  }

  it('answers a lone edit in a unit of its own, and a burst in few units, each change once and in arrival order', async () => {
    const scene = await twins(8);
    const before = core().coalescing();
    const lone = await core().modify(
      command(
        { kind: 'transaction_id', transactionId: scene.open[0].a.id, campaignId: null },
        scene.campaign.password,
        {
          affiliatePayout: 50_000n,
        },
      ),
    );
    expect(lone.kind).toBe('applied');
    expect(core().coalescing()).toEqual({ ...before, changes: before.changes + 1, units: before.units + 1 });

    // 40 edits at once, five to each transaction: each transaction's history chains in arrival order.
    const burst = Array.from({ length: 40 }, (_, i) =>
      command(
        { kind: 'transaction_id', transactionId: scene.open[i % 8].b.id, campaignId: null },
        scene.campaign.password,
        { affiliatePayout: BigInt(10_000 * (i + 1)) },
        `burst ${i}`,
      ),
    );
    const start = core().coalescing();
    const outcomes = await Promise.all(burst.map((c) => core().modify(c)));
    expect(outcomes.map((o) => o.kind)).toEqual(burst.map(() => 'applied'));
    const after = core().coalescing();
    expect(after.changes - start.changes).toBe(40);
    expect(after.units - start.units).toBeLessThan(40);
    for (let t = 0; t < 8; t++) {
      const rows = await history(scene.open[t].b.id);
      expect(rows.map((row) => row.reason)).toEqual([0, 1, 2, 3, 4].map((k) => `burst ${t + 8 * k}`));
      rows.slice(1).forEach((row, k) => expect(row.before).toEqual(rows[k].after));
      expect((await stored(scene.open[t].b.id)).affiliatePayout).toBe(BigInt(10_000 * (t + 33)));
    }
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it('applies a burst whose requests repeat one request id (a client’s X-Request-Id), each once, in arrival order', async () => {
    const scene = await twins(3);
    const burst = Array.from({ length: 12 }, (_, i) => ({
      ...command(
        { kind: 'transaction_id', transactionId: scene.open[i % 3].a.id, campaignId: null },
        scene.campaign.password,
        { affiliatePayout: BigInt(20_000 + i) },
        `same id ${i}`,
      ),
      requestId: `shared-${runId}`,
    }));
    const outcomes = await Promise.all(burst.map((c) => core().modify(c)));
    expect(outcomes.map((o) => o.kind)).toEqual(burst.map(() => 'applied'));
    for (let t = 0; t < 3; t++)
      expect((await history(scene.open[t].a.id)).map((row) => row.reason)).toEqual(
        [0, 1, 2, 3].map((k) => `same id ${t + 3 * k}`),
      );
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'random concurrent edits (seed %i) answer and leave exactly what running them one by one in commit order does',
    async (seed) => {
      const scene = await twins(4);
      const rng = seededRandom(seed * 7919);
      type Twin = { a: Transaction; b: Transaction };
      const targets: Array<{ twin: Twin | null; password: string | null }> = [];
      const commands: Array<{ a: ModificationCommand; b: ModificationCommand }> = [];
      for (let i = 0; i < 36; i++) {
        const roll = rng.next();
        const twin: Twin | null =
          roll < 0.75 ? scene.open[rng.below(4)] : roll < 0.83 ? scene.shut : roll < 0.93 ? scene.pending : null;
        const password = rng.chance(0.12) ? 'not the password' : (scene.campaign.password as string);
        const changes: RequestedChanges = {};
        if (rng.chance(0.8)) changes.affiliatePayout = BigInt(rng.below(1_000_000));
        if (rng.chance(0.5)) changes.merchantRevenue = BigInt(rng.below(10_000_000));
        if (rng.chance(0.3) || Object.keys(changes).length === 0) changes.approved = rng.chance(0.5);
        const byClick = rng.chance(0.4);
        const identify = (t: Transaction | null): TransactionIdentifier =>
          t === null
            ? { kind: 'transaction_id', transactionId: 2_000_000_000 + i, campaignId: null }
            : byClick
              ? { kind: 'click_id', clickId: t.clickId, campaignId: null }
              : { kind: 'transaction_id', transactionId: t.id, campaignId: null };
        const twinPassword = twin === scene.shut ? (scene.closed.password as string) : password;
        targets.push({ twin, password: twinPassword });
        commands.push({
          a: command(identify(twin?.a ?? null), twinPassword, changes, `edit ${i}`),
          b: command(identify(twin?.b ?? null), twinPassword, changes, `edit ${i}`),
        });
      }
      const start = core().coalescing();
      const concurrent = await Promise.all(commands.map((c) => core().modify(c.a)));
      const coalesced = core().coalescing();
      // Commit order: the history rows' ids; then the refused ones (whose answers no order changes).
      const applied = concurrent
        .map((outcome, index) => ({ outcome, index }))
        .filter((entry) => entry.outcome.kind === 'applied')
        .sort(
          (x, y) =>
            (x.outcome as Extract<Outcome, { kind: 'applied' }>).modificationId -
            (y.outcome as Extract<Outcome, { kind: 'applied' }>).modificationId,
        )
        .map((entry) => entry.index);
      const order = [...applied, ...commands.map((_, i) => i).filter((i) => !applied.includes(i))];
      const alone: Outcome[] = new Array(commands.length);
      for (const index of order) alone[index] = await core().modify(commands[index].b);

      expect(concurrent.map(answerOf)).toEqual(alone.map(answerOf));
      for (const twin of [...scene.open, scene.shut, scene.pending]) {
        const [a, b] = [await stored(twin.a.id), await stored(twin.b.id)];
        expect([a.affiliatePayout, a.merchantRevenue, a.approved, a.modificationCount]).toEqual([
          b.affiliatePayout,
          b.merchantRevenue,
          b.approved,
          b.modificationCount,
        ]);
        const rows = (id: number) =>
          history(id).then((list) => list.map((r) => [r.before, r.after, r.reason, r.source, r.identifier]));
        expect(await rows(twin.a.id)).toEqual(await rows(twin.b.id));
      }
      expect(await statisticsMismatches(knex())).toEqual([]);
      // Some of them shared units (the property holds either way; this says the path was exercised).
      expect(coalesced.units - start.units).toBeLessThan(coalesced.changes - start.changes);
    },
  );

  describe('when its unit of work breaks', () => {
    const driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
    const deadlock = () =>
      Object.assign(new Error('Deadlock found when trying to get lock'), {
        code: engine === 'mysql' ? 'ER_LOCK_DEADLOCK' : 'SQLITE_BUSY',
        errno: 1213,
      });
    const lost = () =>
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
      });

    /** A burst of `count` edits of distinct transactions, all vouched for, and what they answered. */
    async function burst(count: number) {
      const scene = await twins(count);
      const edits = scene.open.map((twin, i) =>
        command({ kind: 'transaction_id', transactionId: twin.a.id, campaignId: null }, scene.campaign.password, {
          affiliatePayout: BigInt(1000 + i),
        }),
      );
      const outcomes = await Promise.all(edits.map((c) => core().modify(c)));
      // Every change exactly once in the history, with its request id.
      for (const [i, twin] of scene.open.entries()) {
        const rows = (await history(twin.a.id)).filter((row) => row.requestId === edits[i].requestId);
        expect(rows.length).toBeLessThanOrEqual(1);
        if (outcomes[i].kind === 'applied') expect(rows).toHaveLength(1);
        else expect(rows).toHaveLength(0);
      }
      expect(await statisticsMismatches(knex())).toEqual([]);
      return outcomes;
    }

    afterEach(() => jest.restoreAllMocks());

    it('retries a deadlocked unit whole, and applies each change once', async () => {
      const appendMany = services.stores.modifications.appendMany.bind(services.stores.modifications);
      let failures = 1;
      jest
        .spyOn(services.stores.modifications, 'appendMany')
        .mockImplementation((sql, rows) => (failures-- > 0 ? Promise.reject(deadlock()) : appendMany(sql, rows)));
      const outcomes = await burst(12);
      expect(outcomes.map((o) => o.kind)).toEqual(outcomes.map(() => 'applied'));
      expect(failures).toBeLessThan(0);
    });

    it('falls back to smaller units when every coalesced attempt deadlocks', async () => {
      jest.spyOn(services.stores.modifications, 'appendMany').mockImplementation(() => Promise.reject(deadlock()));
      const outcomes = await burst(12);
      expect(outcomes.map((o) => o.kind)).toEqual(outcomes.map(() => 'applied'));
      expect(services.stores.modifications.appendMany).toHaveBeenCalledTimes(LOCK_RETRY_ATTEMPTS);
    });

    it('after a connection lost before the COMMIT, applies each change once through smaller units', async () => {
      let failures = 1;
      const appendMany = services.stores.modifications.appendMany.bind(services.stores.modifications);
      jest
        .spyOn(services.stores.modifications, 'appendMany')
        .mockImplementation((sql, rows) => (failures-- > 0 ? Promise.reject(lost()) : appendMany(sql, rows)));
      const outcomes = await burst(12);
      expect(outcomes.map((o) => o.kind)).toEqual(outcomes.map(() => 'applied'));
      // The lost unit was not retried as a whole: its changes went one by one (single-row history inserts).
      expect(services.stores.modifications.appendMany).toHaveBeenCalledTimes(1);
    });

    it('after a COMMIT whose acknowledgement was lost, answers applied from the history and applies nothing twice', async () => {
      const control = driver.control.bind(driver);
      let armed = true;
      let multiRow = false;
      const appendMany = services.stores.modifications.appendMany.bind(services.stores.modifications);
      jest.spyOn(services.stores.modifications, 'appendMany').mockImplementation((sql, rows) => {
        multiRow = rows.length > 1;
        return appendMany(sql, rows);
      });
      jest.spyOn(driver, 'control').mockImplementation(async (connection, sql) => {
        await control(connection, sql);
        // The first COMMIT of a coalesced unit lands, and its answer is lost on the way back.
        if (armed && multiRow && sql === 'COMMIT') {
          armed = false;
          throw lost();
        }
      });
      const outcomes = await burst(12);
      expect(armed).toBe(false);
      expect(outcomes.map((o) => o.kind)).toEqual(outcomes.map(() => 'applied'));
    });
  });
});
