import { loadConfig } from '../src/config';
import { createServices, type Services } from '../src/composition';
import { createLogger } from '../src/logger';
import type { ModificationCommand } from '../src/modification/command';
import { closeDatabase, openDatabase, type Database } from '../src/store/database';
import { campaignOf, passwordOf, randomTransactionOf, SUCCESS_CAMPAIGNS } from './bench-data';
import { seedBenchDatabase, type BenchDatabase } from './seed';

/**
 * The app's services in this process on a freshly seeded bench database (bcrypt cost 4, logs silent), for
 * the benches that call the core directly instead of over HTTP; `close` ends what they started.
 */
export async function seededServices(
  database: BenchDatabase,
  transactions: number,
): Promise<{ db: Database; services: Services; close: () => Promise<void> }> {
  await seedBenchDatabase(database.config, transactions, 4);
  const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', DEMO_DATA: 'false', BCRYPT_COST: '4' });
  const db = openDatabase(config.database, { poolMax: config.databasePoolMax });
  const services = createServices(config, db, createLogger('silent'));
  return {
    db,
    services,
    close: async () => {
      await services.limiter.close();
      await services.postbackDispatcher.close();
      await closeDatabase(db);
    },
  };
}

/**
 * The `i`-th edit of a random success-path transaction of `transactions`, as the core receives it from
 * /transaction.edit (its campaign's right password), under the request id `requestId`.
 */
export function successCommand(transactions: number, i: number, requestId: string): ModificationCommand {
  const transactionId = randomTransactionOf(transactions, SUCCESS_CAMPAIGNS);
  return {
    identifier: { kind: 'transaction_id', transactionId, campaignId: null },
    changes: { affiliatePayout: BigInt(10_000 + (i % 500)), merchantRevenue: 250_000n, approved: i % 10 !== 0 },
    password: passwordOf(campaignOf(transactionId)),
    reason: 'bench',
    executeAffiliatePixel: false,
    clientIp: '127.0.0.1',
    requestId,
    source: 'api',
  };
}
