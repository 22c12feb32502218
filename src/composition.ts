import type { Config } from './config';
import type { Logger } from './logger';
import { AdminService } from './admin/admin-service';
import { PasswordVerifier } from './auth/password-verifier';
import { ModificationService } from './modification/modification-service';
import { AffiliateStore } from './store/affiliate-store';
import { CampaignStore } from './store/campaign-store';
import type { Database } from './store/database';
import { ModificationStore } from './store/modification-store';
import { ProcessingStateStore } from './store/processing-state-store';
import { StatisticsStore } from './store/statistics-store';
import { TransactionStore } from './store/transaction-store';
import { WhitelistStore } from './store/whitelist-store';
import { PostbackStore } from './store/postback-store';
import { createGuardedDispatcher } from './postbacks/network-guard';
import { TransactionalPostbackOutbox } from './postbacks/postback-outbox';
import { PostbackWorker } from './postbacks/postback-worker';
import { validatePostbackUrlTemplate } from './postbacks/url-template';
import Redis from 'ioredis';
import { FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter } from './auth/failure-limiter';

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
    postbacks: new PostbackStore(db.knex, db.engine),
  };
}
export type Stores = ReturnType<typeof createStores>;

/** Every service, from the config, the database and its stores. The one composition root. */
export function createServices(config: Config, db: Database, logger: Logger, options: { now?: () => number } = {}) {
  const stores = createStores(db);
  const passwords = new PasswordVerifier({
    bcryptCost: config.bcryptCost,
    cacheSize: config.credentialCacheSize,
    cacheTtlMs: config.credentialCacheTtlMs,
    maxConcurrentCompares: config.security.bcryptConcurrency,
    now: options.now,
  });
  const limiter: FailureLimiter = config.security.redisUrl
    ? new RedisFailureLimiter(new Redis(config.security.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false }), config.security.rateLimitWindowMs, logger)
    : new MemoryFailureLimiter(config.security.rateLimitWindowMs, options.now);
  const postbackDispatcher = createGuardedDispatcher({ allowPrivateNetworks: config.postbacks.allowPrivateNetworks });
  const postbackWorker = new PostbackWorker(stores.postbacks, postbackDispatcher, logger, { ...config.postbacks, now: options.now });
  const outbox = new TransactionalPostbackOutbox(stores.postbacks, { now: options.now, onCommitted: () => postbackWorker.wake() });
  const modifications = new ModificationService({
    knex: db.knex,
    ...stores,
    passwords,
    postbacks: outbox,
    limiter: { limiter, ipFailures: config.security.rateLimitIpFailures, campaignFailures: config.security.rateLimitCampaignFailures },
    now: options.now,
  });
  const admin = new AdminService({
    knex: db.knex,
    engine: db.engine,
    ...stores,
    bcryptCost: config.bcryptCost,
    validatePostbackUrl: validatePostbackUrlTemplate,
    now: options.now,
  });
  return { db, config, logger, stores, passwords, limiter, modifications, admin, postbackWorker, postbackDispatcher };
}
export type Services = ReturnType<typeof createServices>;
