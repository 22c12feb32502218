import { createServices } from '../src/composition';
import { loadConfig } from '../src/config';
import { createLifecycle, type LifecycleParts } from '../src/lifecycle';
import { createLogger } from '../src/logger';
import { createTestDatabase, testEngines } from './support/databases';

/** Hand-written parts that write what is done to them, in order, into `events`. */
function recordingParts(
  events: string[],
  failing: string[] = [],
  defaults = { postbackWorker: true, batchWorker: false, impactApiWorker: false, scheduler: true },
) {
  const step = (name: string) => async () => {
    events.push(name);
    if (failing.includes(name)) throw new Error(`${name} broke`);
  };
  const runs = (name: string) => ({ start: () => void events.push(`${name} start`), stop: step(`${name} stop`) });
  const logged: Array<{ part: unknown; message: string }> = [];
  const record = ((fields: object, message?: string) =>
    void logged.push({
      part: (fields as { part?: unknown }).part,
      message: message ?? '',
    })) as LifecycleParts['logger']['error'];
  const parts: LifecycleParts = {
    postbackWorker: runs('postbackWorker'),
    batchWorker: runs('batchWorker'),
    impactApiWorker: runs('impactApiWorker'),
    scheduler: runs('scheduler'),
    sweepIdempotency: async () => events.push('sweep'),
    flushRefusals: step('refusals flush'),
    postbackDispatcher: { close: step('postbackDispatcher close') },
    limiter: { close: step('limiter close') },
    passwords: { close: step('passwords close') },
    pool: { destroy: step('pool destroy') },
    defaults,
    logger: { warn: record, error: record },
  };
  return { parts, logged };
}

const STOP_ORDER = [
  'scheduler stop',
  'postbackWorker stop',
  'batchWorker stop',
  'impactApiWorker stop',
  'refusals flush',
  'postbackDispatcher close',
  'limiter close',
  'passwords close',
  'pool destroy',
];

describe('the lifecycle of the services', () => {
  it('starts the parts the config turns on when start() names none', () => {
    const events: string[] = [];
    const lifecycle = createLifecycle(recordingParts(events).parts);
    lifecycle.start();
    expect(events).toEqual(['postbackWorker start', 'scheduler start']);
    void lifecycle.stop();
  });

  it('starts a part start() names as given, whatever the config says', () => {
    const events: string[] = [];
    const lifecycle = createLifecycle(recordingParts(events).parts);
    lifecycle.start({ postbackWorker: false, batchWorker: true, scheduler: false });
    expect(events).toEqual(['batchWorker start']);
    void lifecycle.stop();
  });

  it('stops the scheduler, the workers, the dispatcher, the limiter, the compare process and then the pool, once', async () => {
    const events: string[] = [];
    const lifecycle = createLifecycle(recordingParts(events).parts);
    lifecycle.start();
    events.length = 0;
    const first = lifecycle.stop();
    const second = lifecycle.stop();
    await Promise.all([first, second]);
    await lifecycle.stop();
    expect(events).toEqual(STOP_ORDER);
  });

  it('logs a step that fails and still runs the rest, the pool last', async () => {
    const events: string[] = [];
    const { parts, logged } = recordingParts(events, ['postbackWorker stop', 'limiter close']);
    await createLifecycle(parts).stop();
    expect(events).toEqual(STOP_ORDER);
    expect(logged.map(({ part }) => part)).toEqual(['postback worker', 'failed-attempt limiter']);
    expect(logged[0].message).toBe('stopping the postback worker failed; stopping the rest');
  });

  it('leaves the pool open when asked to keep the database', async () => {
    const events: string[] = [];
    await createLifecycle(recordingParts(events).parts).stop({ keepDatabase: true });
    expect(events).toEqual(STOP_ORDER.filter((event) => event !== 'pool destroy'));
  });

  it('starts nothing once stopping began', async () => {
    const events: string[] = [];
    const lifecycle = createLifecycle(recordingParts(events).parts);
    const stopping = lifecycle.stop();
    lifecycle.start({ batchWorker: true });
    await stopping;
    expect(events.filter((event) => event.endsWith(' start'))).toEqual([]);
  });
});

describe.each(testEngines())('the composition root’s lifecycle (%s)', (engine) => {
  it('starts the real workers and scheduler and stops them with the pool last', async () => {
    const database = await createTestDatabase(engine);
    try {
      const config = loadConfig({
        LOG_LEVEL: 'silent',
        BCRYPT_COST: '4',
        ROLLUP_SCHEDULE: 'off',
        NIGHTLY_SCHEDULE: 'off',
      });
      const services = createServices(config, database.db, createLogger('silent'));
      services.lifecycle.start();
      await services.lifecycle.stop({ keepDatabase: true });
      // Kept: the pool still answers.
      expect(await database.db.knex.raw('select 1 as one')).toBeDefined();
      const again = createServices(config, database.db, createLogger('silent'));
      again.lifecycle.start();
      await again.lifecycle.stop();
      // Closed: knex refuses once its pool is destroyed.
      await expect(database.db.knex.raw('select 1 as one')).rejects.toThrow();
    } finally {
      await database.drop();
    }
  });
});
