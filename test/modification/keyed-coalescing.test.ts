import crypto from 'node:crypto';
import type { Services } from '../../src/composition';
import { LinkTrustRules } from '../../src/linktrust/linktrust-rules';
import type { ModificationCommand, TransactionIdentifier } from '../../src/modification/command';
import type { IdempotentRequest } from '../../src/modification/idempotency-service';
import { ModificationService } from '../../src/modification/modification-service';
import type { Outcome } from '../../src/modification/outcome';
import { writeStatement } from '../../src/store/sql';
import { mysqlDriver, sqliteDriver } from '../../src/store/sql-drivers';
import { testEngines, type TestDatabase } from '../support/databases';
import { closeServices, servicesOnTestDatabase } from '../support/core-services';
import { buildAffiliate, buildCampaign, buildTransaction, twoDaysAgo } from '../support/factories';
import { rollUpIncluding, statisticsMismatches } from '../faults/fault-helpers';

// Keyed changes (Idempotency-Key) take the one-unit path like any other: these tests hold it to the answers
// each would get alone, one after another — a key used twice within one unit, a replay with another
// campaign's password, an expired key — and break its units on purpose (a concurrent unit storing the same
// key between our read and our insert, a COMMIT whose acknowledgement is lost).

const runId = crypto.randomBytes(4).toString('hex');
let requests = 0;
let addresses = 0;
const freshIp = () => `198.19.${Math.floor(++addresses / 250)}.${addresses % 250}`;
const uniqueKey = () => `key-${runId}-${++requests}`;

function command(transaction: { id: number }, password: string | null, affiliatePayout: bigint): ModificationCommand {
  const identifier: TransactionIdentifier = { kind: 'transaction_id', transactionId: transaction.id, campaignId: null };
  return {
    identifier,
    changes: { affiliatePayout },
    password,
    reason: null,
    executeAffiliatePixel: false,
    clientIp: freshIp(),
    requestId: `keyed-${runId}-${++requests}`,
    source: 'api',
  };
}

/** A front door's keyed request: its answer names the change, so a replay of another change would show. */
const keyed = (key: string, fingerprint: string): IdempotentRequest => ({
  key,
  fingerprint,
  render: (outcome) =>
    `<applied transaction="${outcome.transaction.id}" modification="${outcome.modificationId}" ` +
    `ap="${outcome.transaction.affiliatePayout}"/>`,
});

/** An answer's kind; a replayed answer (a string) as `replay`. */
const kindOf = (answer: Outcome | string) => (typeof answer === 'string' ? 'replay' : answer.kind);
const CONFLICT: Outcome = { kind: 'invalid_parameter', parameter: 'IdempotencyKey' };
const isAnswerRead = (sql: string) => sql.startsWith('select campaign_id, key_hash');
const isAnswerInsert = (sql: string) => sql.startsWith('insert into idempotency_keys');
const TWIN_INSERT =
  'insert into idempotency_keys (campaign_id, key_hash, fingerprint, response, transaction_id, created_at, ' +
  'expires_at) values (?, ?, ?, ?, ?, ?, ?)';

describe.each(testEngines())('keyed changes on the one-unit path on %s', (engine) => {
  let database: TestDatabase;
  let services: Services;
  /** The core with one unit in flight at most, so that what queues behind it shares the next unit. */
  let core: ModificationService;

  beforeAll(async () => {
    ({ database, services } = await servicesOnTestDatabase(engine));
    core = new ModificationService({
      ...services.stores,
      rules: new LinkTrustRules({ ...services.stores, passwords: services.passwords }),
      postbacks: null,
      keyedAnswers: services.idempotency,
      coalesce: { maxChanges: 64, maxUnits: 1 },
    });
  });
  afterAll(() => closeServices(services, database));
  afterEach(() => jest.restoreAllMocks());

  const knex = () => services.db.knex;
  const history = (id: number) => services.stores.modifications.listForTransaction(id);
  const stored = (campaignId: number, key: string) =>
    knex()('idempotency_keys')
      .where({ campaign_id: campaignId, key_hash: crypto.createHash('sha256').update(key).digest('hex') })
      .first();

  /** A campaign whose password one applied change has vouched for, and `count` transactions of it. */
  async function scene(count: number) {
    const campaign = await buildCampaign(services);
    const affiliate = await buildAffiliate(services);
    const occurredAt = twoDaysAgo();
    const transactions = [];
    for (let i = 0; i <= count; i++)
      transactions.push(await buildTransaction(services, campaign, affiliate, { occurredAt }));
    await rollUpIncluding(services, occurredAt);
    const [warmUp, ...rest] = transactions;
    expect((await core.modify(command(warmUp, campaign.password, 1n))).kind).toBe('applied');
    return { campaign, affiliate, transactions: rest, password: campaign.password as string };
  }

  /** Runs `work`, with the statements announced meanwhile and the units of work it took. */
  async function watched<T>(work: () => Promise<T>) {
    const statements: string[] = [];
    const listener = (query: { sql: string }) => statements.push(query.sql);
    const before = core.coalescing();
    knex().on('query', listener);
    try {
      const result = await work();
      const after = core.coalescing();
      return {
        result,
        statements,
        changes: after.changes - before.changes,
        units: after.units - before.units,
        keyed: after.keyed - before.keyed,
      };
    } finally {
      knex().off('query', listener);
    }
  }

  /** An unkeyed change (first, a unit of its own) and `keyedCommands` queued behind it: they share the next unit. */
  function behindOne(blocker: ModificationCommand, keyedCommands: Array<[ModificationCommand, IdempotentRequest]>) {
    return Promise.all([
      core.modify(blocker),
      ...keyedCommands.map(([c, request]) => core.modify(c, { idempotency: request })),
    ]);
  }

  it('runs the first of a key used twice in one unit and replays its answer to the second', async () => {
    const { transactions, password } = await scene(2);
    const [target, other] = transactions;
    const key = uniqueKey();
    const first = command(target, password, 111n);
    const second = command(target, password, 111n);
    const run = await watched(() =>
      behindOne(command(other, password, 5n), [
        [first, keyed(key, 'same')],
        [second, keyed(key, 'same')],
      ]),
    );
    const [, applied, replayed] = run.result;
    expect(kindOf(applied)).toBe('applied');
    const row = await stored(transactions[0].campaignId, key);
    // Exactly the stored bytes, rendered from the first change's outcome.
    expect(replayed).toBe(row.response);
    expect(replayed).toBe(keyed(key, 'same').render(applied as Extract<Outcome, { kind: 'applied' }>));
    expect((await history(target.id)).map((r) => r.requestId)).toEqual([first.requestId]);
    // Both keyed changes took the one-unit path, in one unit that read the key once and stored it once.
    expect(run.keyed).toBe(2);
    expect(run.statements.filter(isAnswerRead)).toHaveLength(1);
    expect(run.statements.filter(isAnswerInsert)).toHaveLength(1);
    expect(run.units).toBeLessThan(run.changes);
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it('refuses the second of a key used twice in one unit with other parameters, writing it nowhere', async () => {
    const { transactions, password } = await scene(2);
    const [target, other] = transactions;
    const key = uniqueKey();
    const first = command(target, password, 222n);
    const clash = command(target, password, 333n);
    const run = await watched(() =>
      behindOne(command(other, password, 6n), [
        [first, keyed(key, 'ap=2.22')],
        [clash, keyed(key, 'ap=3.33')],
      ]),
    );
    const [, applied, refused] = run.result;
    expect(kindOf(applied)).toBe('applied');
    expect(refused).toEqual(CONFLICT);
    expect((await history(target.id)).map((r) => r.requestId)).toEqual([first.requestId]);
    expect((await services.stores.transactions.getById(target.id))!.affiliatePayout).toBe(222n);
    expect((await stored(target.campaignId, key)).fingerprint).toBe('ap=2.22');
    expect(run.statements.filter(isAnswerRead)).toHaveLength(1);
    expect(run.statements.filter(isAnswerInsert)).toHaveLength(1);
    expect(run.keyed).toBe(2);
  });

  it('answers a replay with another campaign’s (known) password as a fresh request with it: unauthorized', async () => {
    const { transactions, password } = await scene(2);
    const stranger = await scene(1);
    const [target, other] = transactions;
    const key = uniqueKey();
    const original = await core.modify(command(target, password, 444n), { idempotency: keyed(key, 'same') });
    expect(kindOf(original)).toBe('applied');
    const remembered = (await stored(target.campaignId, key)).response;
    // In one unit: the replay with the stranger's password (vouched for, so it tries this path) and with the right one.
    const run = await watched(() =>
      behindOne(command(other, password, 7n), [
        [command(target, stranger.password, 444n), keyed(key, 'same')],
        [command(target, password, 444n), keyed(key, 'same')],
      ]),
    );
    const [, wrong, right] = run.result;
    expect(wrong).toEqual({ kind: 'unauthorized' });
    expect(right).toBe(remembered);
    expect(run.keyed).toBe(2);
    expect(await history(target.id)).toHaveLength(1);
  });

  it('runs a key again once its remembered answer has expired, replacing it', async () => {
    const { transactions, password } = await scene(1);
    const [target] = transactions;
    const key = uniqueKey();
    const first = await core.modify(command(target, password, 555n), { idempotency: keyed(key, 'same') });
    expect(kindOf(first)).toBe('applied');
    await knex()('idempotency_keys')
      .where({ transaction_id: target.id })
      .update({ expires_at: Date.now() - 1 });
    const run = await watched(() => core.modify(command(target, password, 555n), { idempotency: keyed(key, 'same') }));
    expect(run.keyed).toBe(1);
    const again = run.result as Extract<Outcome, { kind: 'applied' }>;
    expect(kindOf(again)).toBe('applied');
    expect(again.modificationId).not.toBe((first as Extract<Outcome, { kind: 'applied' }>).modificationId);
    expect(await history(target.id)).toHaveLength(2);
    const row = await stored(target.campaignId, key);
    expect(row.response).toBe(keyed(key, 'same').render(again));
    expect(Number(row.expires_at)).toBeGreaterThan(Date.now());
  });

  it('falls back to the usual path when a concurrent unit stores the key between its read and insert', async () => {
    const { transactions, password } = await scene(3);
    const [target, other, third] = transactions;
    const [key, otherKey] = [uniqueKey(), uniqueKey()];
    const twinAnswer = '<applied by="the concurrent twin"/>';
    const twinRow = () => {
      const now = Date.now();
      return {
        campaign_id: target.campaignId,
        key_hash: crypto.createHash('sha256').update(key).digest('hex'),
        fingerprint: 'same',
        response: twinAnswer,
        transaction_id: target.id,
        created_at: now,
        expires_at: now + 86_400_000,
      };
    };
    const store = services.stores.idempotency;
    const driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
    const all = driver.all.bind(driver);
    let armed = true;
    jest.spyOn(driver, 'all').mockImplementation(async (connection, statements, begin, commit) => {
      if (!armed || !statements.some(({ sql }) => isAnswerInsert(sql)))
        return all(connection, statements, begin, commit);
      armed = false;
      const row = twinRow();
      if (engine === 'mysql') {
        // Another connection commits the twin's answer after our read, before our insert.
        await knex()('idempotency_keys').insert(row);
      } else {
        // SQLite has one writer, so no unit can come between: the twin's row goes in first on our own
        // connection (rolled back with our unit), and is committed by the time the usual path looks.
        await all(connection, [writeStatement(TWIN_INSERT, Object.values(row), { once: true })], begin, false);
        const find = store.find.bind(store);
        jest.spyOn(store, 'find').mockImplementationOnce(async (...args) => {
          await knex()('idempotency_keys').insert(row);
          return find(...args);
        });
      }
      return all(connection, statements, null, commit);
    });
    const mine = command(target, password, 666n);
    const unkeyed = command(other, password, 777n);
    const another = command(third, password, 888n);
    const run = await watched(() =>
      Promise.all([
        core.modify(command(other, password, 8n)),
        core.modify(mine, { idempotency: keyed(key, 'same') }),
        core.modify(unkeyed),
        core.modify(another, { idempotency: keyed(otherKey, 'same') }),
      ]),
    );
    const [, mineAnswer, unkeyedAnswer, anotherAnswer] = run.result;
    expect(armed).toBe(false);
    // The colliding change answers as the twin did and writes nothing; the unit's others applied once each.
    expect(mineAnswer).toBe(twinAnswer);
    expect(await history(target.id)).toHaveLength(0);
    expect(kindOf(unkeyedAnswer)).toBe('applied');
    expect(kindOf(anotherAnswer)).toBe('applied');
    expect((await history(other.id)).filter((r) => r.requestId === unkeyed.requestId)).toHaveLength(1);
    expect((await history(third.id)).map((r) => r.requestId)).toEqual([another.requestId]);
    expect((await stored(third.campaignId, otherKey)).response).toBe(
      keyed(otherKey, 'same').render(anotherAnswer as Extract<Outcome, { kind: 'applied' }>),
    );
    expect(run.keyed).toBe(2);
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it('after a COMMIT whose acknowledgement was lost, answers a keyed change with its stored answer', async () => {
    const { transactions, password } = await scene(2);
    const [target, other] = transactions;
    const key = uniqueKey();
    const driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
    const all = driver.all.bind(driver);
    let armed = true;
    jest.spyOn(driver, 'all').mockImplementation(async (connection, statements, begin, commit) => {
      const results = await all(connection, statements, begin, commit);
      // The unit that stores the key commits, and its answer is lost on the way back.
      if (armed && commit && statements.some(({ sql }) => isAnswerInsert(sql))) {
        armed = false;
        throw Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
        });
      }
      return results;
    });
    const mine = command(target, password, 999n);
    const unkeyed = command(other, password, 1999n);
    const [, answer, unkeyedAnswer] = await Promise.all([
      core.modify(command(other, password, 9n)),
      core.modify(mine, { idempotency: keyed(key, 'same') }),
      core.modify(unkeyed),
    ]);
    expect(armed).toBe(false);
    const row = await stored(target.campaignId, key);
    // Applied (it ran: the metrics count a success), carrying the stored bytes for the front door to send.
    expect(answer).toMatchObject({ kind: 'applied', stored: row.response });
    expect(kindOf(unkeyedAnswer)).toBe('applied');
    const rows = await history(target.id);
    expect(rows.map((r) => r.requestId)).toEqual([mine.requestId]);
    expect(row.response).toContain(`modification="${rows[0].id}"`);
    expect((await history(other.id)).filter((r) => r.requestId === unkeyed.requestId)).toHaveLength(1);
    // A retry replays the same bytes and writes nothing.
    expect(await core.modify(command(target, password, 999n), { idempotency: keyed(key, 'same') })).toBe(row.response);
    expect(await history(target.id)).toHaveLength(1);
    expect(await statisticsMismatches(knex())).toEqual([]);
  });
});
