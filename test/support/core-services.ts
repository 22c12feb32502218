import { createServices, type Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './databases';

/**
 * The services over a fresh test database, for tests that call the core in-process: silent logs, bcrypt
 * cost 4, three failures per client, no campaign brake, and every compare in this process. `settings`
 * add to or replace those.
 */
export async function servicesOnTestDatabase(
  engine: 'mysql' | 'sqlite',
  settings: Record<string, string> = {},
): Promise<{ database: TestDatabase; services: Services }> {
  const database = await createTestDatabase(engine);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    BCRYPT_COST: '4',
    RATE_LIMIT_IP_FAILURES: '3',
    RATE_LIMIT_CAMPAIGN_FAILURES: '0',
    BCRYPT_LOW_PRIORITY: 'false',
    ...settings,
  });
  return { database, services: createServices(config, database.db, createLogger('silent')) };
}

/** Closes what `servicesOnTestDatabase` opened (either may be missing when its set-up failed). */
export async function closeServices(services: Services | undefined, database: TestDatabase | undefined) {
  await services?.postbackDispatcher.close();
  await services?.limiter.close();
  await database?.drop();
}
