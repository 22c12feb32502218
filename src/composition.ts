import type { Config } from './config';
import type { Logger } from './logger';
import { AdminService } from './admin/admin-service';
import { PasswordVerifier } from './auth/password-verifier';
import { ModificationService, PostbackOutbox } from './modification/modification-service';
import { AffiliateStore } from './store/affiliate-store';
import { CampaignStore } from './store/campaign-store';
import type { Database } from './store/database';
import { ModificationStore } from './store/modification-store';
import { ProcessingStateStore } from './store/processing-state-store';
import { StatisticsStore } from './store/statistics-store';
import { TransactionStore } from './store/transaction-store';
import { WhitelistStore } from './store/whitelist-store';

/** Every store, built over one database handle. */
export function createStores(db: Database) {
  return {
    affiliates: new AffiliateStore(db.knex),
    campaigns: new CampaignStore(db.knex),
    whitelist: new WhitelistStore(db.knex),
    transactions: new TransactionStore(db.knex, db.engine),
    modifications: new ModificationStore(db.knex),
    processingState: new ProcessingStateStore(db.knex, db.engine),
    statistics: new StatisticsStore(db.knex, db.engine),
  };
}
export type Stores = ReturnType<typeof createStores>;

/** Every service, from the config, the database and its stores. The one composition root. */
export function createServices(config: Config, db: Database, logger: Logger, options: { now?: () => number; postbacks?: PostbackOutbox | null } = {}) {
  const stores = createStores(db);
  const passwords = new PasswordVerifier({
    bcryptCost: config.bcryptCost,
    cacheSize: config.credentialCacheSize,
    cacheTtlMs: config.credentialCacheTtlMs,
    now: options.now,
  });
  const modifications = new ModificationService({
    knex: db.knex,
    ...stores,
    passwords,
    postbacks: options.postbacks ?? null,
    now: options.now,
  });
  const admin = new AdminService({
    knex: db.knex,
    engine: db.engine,
    ...stores,
    bcryptCost: config.bcryptCost,
    validatePostbackUrl: () => ({ ok: true }),
    now: options.now,
  });
  return { db, config, logger, stores, passwords, modifications, admin };
}
export type Services = ReturnType<typeof createServices>;
