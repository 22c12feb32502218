import type { Knex } from 'knex';
import type { RowResult } from './core/row-result';
import type { Config } from './config';
import type { Logger } from './logger';
import { AdminService } from './admin/admin-service';
import { HandEditRules } from './admin/hand-edit-rules';
import { HandEditService } from './admin/hand-edit-service';
import { MerchantService } from './merchants/merchant-service';
import { MerchantStore } from './store/merchant-store';
import { MerchantUserStore } from './store/merchant-user-store';
import { MerchantUserService } from './merchants/merchant-user-service';
import { MerchantCampaigns } from './merchants/merchant-campaigns';
import { EventTypeService } from './event-types/event-type-service';
import { ImpactRules } from './impact/impact-rules';
import { EventTypeCache } from './event-types/event-type-cache';
import { impactRows } from './impact/impact-batch-rows';
import { BatchService } from './batch/batch-service';
import { batchOptionsFor, BatchWorker } from './batch/batch-worker';
import { PasswordVerifier } from './auth/password-verifier';
import { ModificationService } from './modification/modification-service';
import { LinkTrustRules } from './linktrust/linktrust-rules';
import { AffiliateStore } from './store/affiliate-store';
import { BatchStore } from './store/batch-store';
import { CampaignStore } from './store/campaign-store';
import { EventTypeStore } from './store/event-type-store';
import { closeDatabase, type Database } from './store/database';
import { ModificationStore } from './store/modification-store';
import { ProcessingStateStore } from './store/processing-state-store';
import { SqlRunner } from './store/sql';
import { StatisticsStore } from './store/statistics-store';
import { TransactionStore } from './store/transaction-store';
import { WhitelistStore } from './store/whitelist-store';
import { createProcessingService } from './processing/processing-service';
import { createProcessingScheduler } from './processing/processing-scheduler';
import { createLifecycle } from './lifecycle';
import { PostbackStore } from './store/postback-store';
import { IdempotencyStore } from './store/idempotency-store';
import { IdempotencyService } from './modification/idempotency-service';
import { createGuardedDispatcher } from './postbacks/network-guard';
import { sendTestPostback } from './postbacks/test-postback';
import { TransactionalPostbackOutbox } from './postbacks/postback-outbox';
import { PostbackWorker } from './postbacks/postback-worker';
import { PostbackService } from './postbacks/postback-service';
import { validatePostbackUrlTemplate } from './postbacks/url-template';
import Redis from 'ioredis';
import { AdminAuthBrake } from './auth/admin-auth-brake';
import { FailureLimiter, MemoryFailureLimiter, RedisFailureLimiter } from './auth/failure-limiter';
import { ConsoleAuditLog } from './console/console-audit';
import { ConsoleAuditStore } from './store/console-audit-store';
import { ConsoleAuth } from './console/console-auth';
import { ConsoleSessionStore } from './store/console-session-store';
import { DailyStatisticsStore } from './store/daily-statistics-store';
import { ReportQueries } from './store/report-queries';
import { UnitOfWork } from './store/unit-of-work';
import { createMetricsRegistry } from './metrics/metrics-registry';
import { Instruments } from './metrics/instruments';
import { RefusalStore } from './store/refusal-store';
import { RefusalTally } from './refusals/refusal-tally';
import path from 'node:path';
import { IntakeStore } from './store/intake-store';
import { IntakeService } from './intake/intake-service';
import { IntakeDoors } from './intake/intake-doors';
import { SecretBox } from './intake/secret-box';
import { createPullRun } from './intake/pull-run';
import { createPullScheduler } from './intake/pull-scheduler';
import { FailureBrake } from './modification/failure-brake';
import { createIntakeServers } from './intake/intake-servers';
import { ApiAccountStore } from './store/api-account-store';
import { DashboardQueries } from './store/dashboard-queries';
import { DashboardService } from './reports/dashboard-service';
import { ApiSubmissionStore } from './store/api-submission-store';
import { ApiAccountService } from './impact-api/api-account-service';
import { ImpactApiService } from './impact-api/impact-api-service';
import { ImpactApiGate } from './impact-api/impact-api-gate';
import { ImpactApiWorker } from './impact-api/impact-api-worker';
import { MemoryCallRateLimiter, RedisCallRateLimiter, type CallRateLimiter } from './auth/call-rate-limiter';

/** Every store, built over one database handle. */
export function createStores(db: Database) {
  /** The modification core's unit of work: its statements sent together on one pooled connection. */
  const sql = new SqlRunner(db.knex, db.engine);
  return {
    sql,
    affiliates: new AffiliateStore(db.knex),
    campaigns: new CampaignStore(db.knex, db.engine),
    merchants: new MerchantStore(db.knex, db.engine),
    merchantUsers: new MerchantUserStore(db.knex),
    eventTypes: new EventTypeStore(db.knex, db.engine),
    refusals: new RefusalStore(db.knex, db.engine),
    whitelist: new WhitelistStore(db.knex),
    transactions: new TransactionStore(db.knex, db.engine, sql),
    modifications: new ModificationStore(db.knex),
    processingState: new ProcessingStateStore(db.knex, db.engine),
    statistics: new StatisticsStore(db.engine),
    postbacks: new PostbackStore(db.knex, db.engine, sql),
    consoleSessions: new ConsoleSessionStore(db.knex, sql),
    consoleAudit: new ConsoleAuditStore(db.knex),
    batches: new BatchStore(db.knex, sql),
    idempotency: new IdempotencyStore(db.knex),
    dailyStatistics: new DailyStatisticsStore(db.knex),
    reports: new ReportQueries(db.knex, db.engine),
    dashboard: new DashboardQueries(db.knex, db.engine),
    intake: new IntakeStore(db.knex, db.engine, sql),
    apiAccounts: new ApiAccountStore(db.knex, sql),
    apiSubmissions: new ApiSubmissionStore(db.knex, sql),
    /** Opens the units of work the services own; the stores take them as `Sql`. */
    units: new UnitOfWork(sql),
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
    maxQueuedCompares: config.security.bcryptQueue,
    maxComparesPerClient: config.security.bcryptPerClient,
    lowPriority: config.security.bcryptLowPriority,
    suspectShare: config.security.bcryptSuspectShare,
    suspectMs: config.security.rateLimitWindowMs,
    onTrouble: (message, error) =>
      logger.warn({ err: error }, `${message}; password checks of suspect clients run in-process meanwhile`),
    now: options.now,
  });
  // One Redis connection (REDIS_URL) for the counters every instance shares; the failed-attempt limiter closes it.
  const redis = config.security.redisUrl
    ? new Redis(config.security.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : null;
  const limiter: FailureLimiter = redis
    ? new RedisFailureLimiter(redis, config.security.rateLimitWindowMs, logger)
    : new MemoryFailureLimiter(config.security.rateLimitWindowMs, options.now);
  const callLimiter: CallRateLimiter = redis
    ? new RedisCallRateLimiter(redis, logger, options.now)
    : new MemoryCallRateLimiter(options.now);
  const postbackDispatcher = createGuardedDispatcher({ allowPrivateNetworks: config.postbacks.allowPrivateNetworks });
  const postbackWorker = new PostbackWorker(stores.postbacks, postbackDispatcher, logger, {
    ...config.postbacks,
    now: options.now,
  });
  const outbox = new TransactionalPostbackOutbox(stores.postbacks, {
    now: options.now,
    onCommitted: () => postbackWorker.wake(),
  });
  // Requeues at the wall clock's time, as the admin API and the console always have.
  const postbacks = new PostbackService({ postbacks: stores.postbacks, onRequeued: () => postbackWorker.wake() });
  // The core with LinkTrust's checks (/transaction.edit and batch files answer alike).
  const rules = new LinkTrustRules({
    ...stores,
    passwords,
    limiter: {
      limiter,
      ipFailures: config.security.rateLimitIpFailures,
      campaignFailures: config.security.rateLimitCampaignFailures,
      brakedChecksPerMinute: config.security.rateLimitBrakedChecksPerMinute,
    },
  });
  const idempotency = new IdempotencyService(stores.idempotency, config.security.idempotencyTtlMs, options.now);
  const modifications = new ModificationService({
    ...stores,
    rules,
    postbacks: outbox,
    now: options.now,
    keyedAnswers: idempotency,
    ...(config.editCoalescing ? {} : { coalesce: false as const }),
  });
  const eventTypeCache = new EventTypeCache(stores.eventTypes);
  // The same core with impact.com's rules: its files (and its API) share the lock, history, statistics and outbox.
  const impact = new ModificationService({
    ...stores,
    rules: new ImpactRules({ transactions: stores.transactions, eventTypes: eventTypeCache }),
    postbacks: outbox,
    now: options.now,
  });
  // Amendments by hand: the same core, LinkTrust's lookup and processing rules without its credentials,
  // or impact's rules for an action.
  const handEdits = new HandEditService({
    values: new ModificationService({
      ...stores,
      rules: new HandEditRules(rules),
      postbacks: outbox,
      now: options.now,
    }),
    actions: impact,
    transactions: stores.transactions,
    campaigns: stores.campaigns,
    modifications: stores.modifications,
  });
  const merchants = new MerchantService({ ...stores, now: options.now });
  const merchantUsers = new MerchantUserService({ ...stores, bcryptCost: config.bcryptCost, now: options.now });
  const admin = new AdminService({
    ...stores,
    bcryptCost: config.bcryptCost,
    validatePostbackUrl: validatePostbackUrlTemplate,
    sendTestPostback: (template, affiliateId) =>
      sendTestPostback(template, affiliateId, {
        dispatcher: postbackDispatcher,
        timeoutMs: config.postbacks.timeoutMs,
      }),
    now: options.now,
  });
  const merchantCampaigns = new MerchantCampaigns({ merchants, admin });
  const eventTypes = new EventTypeService({
    ...stores,
    onChanged: (id) => eventTypeCache.forget(id),
    now: options.now,
  });
  const processing = createProcessingService(config.processing, stores, { now: options.now, logger });
  const batchWorker = new BatchWorker(
    {
      store: stores.batches,
      modifications,
      impactRows: impactRows({ modifications: impact, accountCurrency: config.batches.accountCurrency }),
      processingState: stores.processingState,
      // A merchant gone since its batch came in owns nothing: its rows then find no transaction.
      merchantCampaigns: (merchantId) =>
        merchants.get(merchantId).then(
          (m) => m.campaignIds,
          () => [],
        ),
      logger,
    },
    {
      ...batchOptionsFor(db.engine),
      now: options.now,
      // Bound late: the instruments are made with the metrics registry below.
      onRowProcessed: (_batchId, result) => instruments?.answered('batch', result.code ?? rowMessage(result)),
    },
  );
  const batches = new BatchService({ store: stores.batches, onQueued: () => batchWorker.wake(), now: options.now });
  // Intake: FTP/SFTP log-ins count against /transaction.edit's brake on client addresses.
  const secrets = new SecretBox(path.join(config.intake.dir, 'intake-secret.key'));
  const pullRun = createPullRun({
    store: stores.intake,
    batches,
    secrets,
    logger,
    options: {
      allowPrivateNetworks: config.intake.allowPrivateNetworks,
      timeoutMs: config.intake.pullTimeoutMs,
      maxFileBytes: config.batches.maxFileBytes,
      verifyTls: config.intake.pullVerifyTls,
    },
    now: options.now,
  });
  const intake = new IntakeService({
    store: stores.intake,
    campaigns: stores.campaigns,
    merchants: stores.merchants,
    secrets,
    bcryptCost: config.bcryptCost,
    smtpDomain: config.intake.smtpDomain,
    pull: pullRun,
    now: options.now,
  });
  const intakeDoors = new IntakeDoors({
    store: stores.intake,
    merchants: stores.merchants,
    batches,
    brake: new FailureBrake({
      limiter,
      ipFailures: config.security.rateLimitIpFailures,
      campaignFailures: config.security.rateLimitCampaignFailures,
    }),
    bcryptCost: config.bcryptCost,
    now: options.now,
  });
  const intakeServers = createIntakeServers({ intake: intakeDoors, config, logger });
  const intakePulls = createPullScheduler({
    campaigns: () => intake.pulling(),
    pull: pullRun,
    intervalMs: config.intake.pullIntervalMs,
    logger,
    now: options.now,
  });
  // impact.com's REST API: accounts, the door (Basic auth, brake, calls per hour), the queue and its worker.
  const apiAccounts = new ApiAccountService({ ...stores, now: options.now });
  const impactApiGate = new ImpactApiGate({
    accounts: apiAccounts,
    failures: limiter,
    ipFailures: config.security.rateLimitIpFailures,
    calls: callLimiter,
    callsPerHour: config.impactApi.rateLimitPerHour,
  });
  const impactApiWorker = new ImpactApiWorker(
    {
      submissions: stores.apiSubmissions,
      accounts: stores.apiAccounts,
      modifications: impact,
      accountCurrency: config.batches.accountCurrency,
      logger,
    },
    { concurrency: db.engine === 'sqlite' ? 2 : 4, now: options.now },
  );
  const impactApi = new ImpactApiService({
    submissions: stores.apiSubmissions,
    accounts: stores.apiAccounts,
    batches,
    accountCurrency: config.batches.accountCurrency,
    onQueued: () => impactApiWorker.wake(),
    now: options.now,
  });
  // One brake for both admin doors: guesses at the API and at the console's sign-in count together.
  const adminAuthBrake = new AdminAuthBrake(limiter, {
    failures: config.security.rateLimitAdminFailures,
    checksPerMinute: config.security.rateLimitBrakedChecksPerMinute,
  });
  const consoleAuth = new ConsoleAuth({
    sessions: stores.consoleSessions,
    merchantUsers,
    brake: adminAuthBrake,
    settings: { adminToken: config.adminToken, users: config.console.users, sessionTtlMs: config.console.sessionTtlMs },
    now: options.now,
  });
  const consoleAudit = new ConsoleAuditLog(stores.consoleAudit, stores.units, { now: options.now });
  const metrics = createMetricsRegistry({
    processingStatus: () => processing.status(),
    outboxBacklog: () => stores.postbacks.backlog(),
    coalescing: () => modifications.coalescing(),
    now: options.now,
  });
  // What /transaction.edit refused, per client, campaign and message, for support (written every few seconds).
  const refusals = new RefusalTally({ store: stores.refusals, logger, now: options.now });
  const dashboard = new DashboardService({
    queries: stores.dashboard,
    refusals,
    batches: stores.batches,
    processing,
    now: options.now,
  });
  // Fed only when metrics are on: otherwise not a clock reading per request.
  const instruments =
    config.metricsToken === null
      ? null
      : new Instruments(metrics, {
          pool: () => poolLoad(db.knex),
          compares: () => passwords.compareLoad(),
          batchRowsPending: () => stores.batches.pendingRows(),
        });
  // Hourly roll-up (at start to catch up, then ROLLUP_SCHEDULE seconds after each hour) and nightly processing.
  const scheduler = createProcessingScheduler(processing, config.processing, logger);
  // What starts the workers and the scheduler, and stops everything above in one order, the pool last.
  const lifecycle = createLifecycle({
    postbackWorker,
    batchWorker,
    impactApiWorker,
    scheduler,
    intakePulls,
    intakeServers,
    sweepIdempotency: () => idempotency.sweep(),
    flushRefusals: () => refusals.flush(),
    postbackDispatcher,
    limiter,
    passwords,
    // The pool, then the SQLite checkpoint worker (when it has one).
    pool: { destroy: () => closeDatabase(db) },
    defaults: {
      postbackWorker: config.postbacks.workerEnabled,
      batchWorker: config.batches.workerEnabled,
      impactApiWorker: config.impactApi.workerEnabled,
      scheduler: true,
    },
    logger,
  });
  return {
    db,
    config,
    logger,
    stores,
    handEdits,
    merchants,
    merchantUsers,
    merchantCampaigns,
    adminAuthBrake,
    consoleAuth,
    consoleAudit,
    dashboard,
    passwords,
    limiter,
    modifications,
    impact,
    idempotency,
    admin,
    eventTypes,
    postbacks,
    postbackWorker,
    postbackDispatcher,
    processing,
    batches,
    batchWorker,
    intake,
    intakeDoors,
    intakeServers,
    apiAccounts,
    impactApiGate,
    impactApi,
    impactApiWorker,
    metrics,
    instruments,
    refusals,
    lifecycle,
  };
}

/** A file row's answer as a metrics label: its success, or its message. */
function rowMessage(result: RowResult): string {
  return result.succeeded ? 'Succeeded' : result.message;
}

/** knex's pool (tarn): connections in use and idle, and acquisitions waiting. */
function poolLoad(knex: Knex): { used: number; free: number; pending: number } {
  const pool = (knex.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
  if (!pool) return { used: 0, free: 0, pending: 0 };
  return { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() };
}
export type Services = ReturnType<typeof createServices>;
