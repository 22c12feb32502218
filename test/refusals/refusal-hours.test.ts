import { HOUR_MS } from '../../src/core/hours';
import { RefusalTally } from '../../src/refusals/refusal-tally';
import { RefusalStore } from '../../src/store/refusal-store';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

describe.each(testEngines())('refusals per hour and message on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('counts each message in the UTC hour it was refused in, adding across flushes', async () => {
    const hour = Date.UTC(2026, 11, 4, 10);
    let now = hour + HOUR_MS - 1;
    const warnings: unknown[] = [];
    const tally = new RefusalTally({
      store: new RefusalStore(database.db.knex, engine),
      logger: { warn: (...args: unknown[]) => warnings.push(args) },
      now: () => now,
      flushAfterMs: 60_000,
    });
    tally.record('linktrust', '192.0.2.1', 7, 'Invalid password');
    tally.record('linktrust', '192.0.2.2', 8, 'Invalid password');
    await tally.flush();
    now = hour + HOUR_MS;
    tally.record('linktrust', '192.0.2.1', 7, 'Invalid password');
    tally.record('linktrust', '192.0.2.1', 7, 'Transaction not found');
    now = hour - 1;
    tally.record('linktrust', '192.0.2.1', 7, 'Invalid password');
    await tally.flush();
    now = hour;
    tally.record('linktrust', '192.0.2.3', null, 'Invalid password');

    expect(await tally.hours({ from: hour, to: hour + 2 * HOUR_MS })).toEqual([
      { hour, message: 'Invalid password', count: 3 },
      { hour: hour + HOUR_MS, message: 'Invalid password', count: 1 },
      { hour: hour + HOUR_MS, message: 'Transaction not found', count: 1 },
    ]);
    expect(warnings).toEqual([]);
  });
});
