import express from 'express';
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_POSTBACK_RETRY_SCHEDULE, parseRetrySchedule } from './postbacks/retry-schedule';
import { ConsoleUser, parseAdminUsers } from './console/admin-users';
import type { ConnectionLimits } from './http/connection-limits';

/** Where the data lives: an embedded SQLite file or a MySQL/MariaDB server. */
export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'mysql'; url: string };

/** The whole, validated, frozen configuration. Each field is documented in README.md and .env.example. */
export interface Config {
  port: number;
  host: string;
  /** Slow and excess connections: header/request timeouts, overall and per-client connection caps. */
  http: ConnectionLimits;
  database: DatabaseConfig;
  /** Bearer token of the admin API (at least 32 characters); when unset the admin API refuses everything. */
  adminToken: string | null;
  /** Bearer token of `GET /metrics` (Prometheus); when unset the endpoint is off (404). */
  metricsToken: string | null;
  /** Value for express's `trust proxy`; false trusts no proxy (X-Forwarded-For ignored). */
  trustProxy: boolean | number | string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  migrateOnStart: boolean;
  /** Create demo data on an empty embedded database. */
  demoData: boolean;
  /** bcrypt cost for newly set campaign passwords. */
  bcryptCost: number;
  /** Verified-credential cache: entries and lifetime. */
  credentialCacheSize: number;
  credentialCacheTtlMs: number;
  /** Size of the MySQL/MariaDB connection pool. */
  databasePoolMax: number;
  postbacks: {
    /** Seconds between attempts; when exhausted the delivery is marked failed. */
    retrySchedule: readonly number[];
    timeoutMs: number;
    allowPrivateNetworks: boolean;
    /** Run the outbox worker inside the server process. */
    workerEnabled: boolean;
    concurrency: number;
    leaseMs: number;
  };
  processing: {
    /** Seconds after each hour boundary at which the roll-up runs; null: not scheduled. */
    rollupDelaySeconds: number | null;
    /** IANA time zone of reporting days (nightly processing, daily statistics). */
    reportingTimezone: string;
    /** Local time (HH:MM in reportingTimezone) at which nightly processing runs; null: not scheduled. */
    nightlyAt: string | null;
    /** How long a nightly run's lease holds unrenewed (renewed every third of it while the run works). */
    nightlyLeaseMs: number;
  };
  security: {
    rateLimitWindowMs: number;
    /** Failed attempts one client IP may make per window (0: no limit). */
    rateLimitIpFailures: number;
    /** Failed attempts against one campaign per window, from IPs not white-listed for it (0: no limit). */
    rateLimitCampaignFailures: number;
    /** Credentials still checked per minute for a braked campaign, or from a braked address at the admin doors. */
    rateLimitBrakedChecksPerMinute: number;
    /** Failed admin authentications (API bearer token, console sign-in) one client may make per window (0: no limit). */
    rateLimitAdminFailures: number;
    /** How long a rate-limited /transaction.edit answer is held back (0: at once). */
    rateLimitDelayMs: number;
    /** Shared rate-limit counters; null: in-process counters. */
    redisUrl: string | null;
    /** bcrypt compares at once (libuv threadpool share). */
    bcryptConcurrency: number;
    /** Compares that may wait, per priority (known clients, known campaigns, others). */
    bcryptQueue: number;
    /** Uncached password compares one client IP may have waiting or running at once. */
    bcryptPerClient: number;
    /** Compares for clients that failed lately run in a separate process at the lowest CPU priority. */
    bcryptLowPriority: boolean;
    /** The share (0–1] of one core the compares of clients that failed lately may use together. */
    bcryptSuspectShare: number;
    tlsCertFile: string | null;
    tlsKeyFile: string | null;
    /** Refuse /transaction.edit over plain HTTP. */
    requireHttps: boolean;
    idempotencyTtlMs: number;
  };
  console: {
    /** Lifetime of a web console session (from sign-in), in milliseconds. */
    sessionTtlMs: number;
    /** Named console users (ADMIN_USERS) with bcrypt hashes; empty: sign in with ADMIN_TOKEN only. */
    users: readonly ConsoleUser[];
  };
  batches: {
    /** Run the batch processor inside the server process. */
    workerEnabled: boolean;
    maxFileBytes: number;
  };
}

/** Thrown with every problem found, one line, each naming its variable. */
export class ConfigError extends Error {}

const bool = (name: string) =>
  z
    .string()
    .transform((v) => v.trim().toLowerCase())
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), `${name} must be true or false`)
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((v) => v >= min && v <= max, `${name} must be a whole number from ${min} to ${max}`);

const schema = z.object({
  PORT: int('PORT', 0, 65535).default(8080),
  HOST: z.string().trim().min(1, 'HOST must not be empty').default('0.0.0.0'),
  HTTP_HEADERS_TIMEOUT_MS: int('HTTP_HEADERS_TIMEOUT_MS', 100, 300_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int('HTTP_REQUEST_TIMEOUT_MS', 100, 3_600_000).default(120_000),
  HTTP_MAX_CONNECTIONS: int('HTTP_MAX_CONNECTIONS', 1, 1_000_000).default(4096),
  HTTP_MAX_CONNECTIONS_PER_CLIENT: int('HTTP_MAX_CONNECTIONS_PER_CLIENT', 0, 1_000_000).default(256),
  DATABASE_URL: z.string().trim().optional(),
  // Long enough that guessing it is hopeless even at the rate the admin brake still checks tokens.
  ADMIN_TOKEN: z.string().min(32, 'ADMIN_TOKEN must be at least 32 characters').optional(),
  METRICS_TOKEN: z.string().trim().min(32, 'METRICS_TOKEN must be at least 32 characters').optional(),
  TRUST_PROXY: z
    .string()
    .trim()
    .refine(
      trustProxyAccepted,
      'TRUST_PROXY must be true, false, a hop count, or a comma list of loopback, linklocal, uniquelocal, IP addresses and CIDR ranges',
    )
    .optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  MIGRATE_ON_START: bool('MIGRATE_ON_START').default(true),
  DEMO_DATA: bool('DEMO_DATA').default(true),
  BCRYPT_COST: int('BCRYPT_COST', 4, 15).default(12),
  CREDENTIAL_CACHE_SIZE: int('CREDENTIAL_CACHE_SIZE', 0, 1_000_000).default(10_000),
  CREDENTIAL_CACHE_TTL_SECONDS: int('CREDENTIAL_CACHE_TTL_SECONDS', 0, 86_400).default(300),
  DATABASE_POOL_MAX: int('DATABASE_POOL_MAX', 1, 500).default(20),
  POSTBACK_RETRY_SCHEDULE: z
    .string()
    .refine((v) => {
      try {
        parseRetrySchedule(v);
        return true;
      } catch {
        return false;
      }
    }, 'POSTBACK_RETRY_SCHEDULE must be comma-separated positive whole seconds, e.g. 5,300,1800')
    .transform((v) => parseRetrySchedule(v))
    .optional(),
  POSTBACK_TIMEOUT_MS: int('POSTBACK_TIMEOUT_MS', 100, 120_000).default(10_000),
  POSTBACK_ALLOW_PRIVATE_NETWORKS: bool('POSTBACK_ALLOW_PRIVATE_NETWORKS').default(false),
  POSTBACK_WORKER: bool('POSTBACK_WORKER').default(true),
  POSTBACK_CONCURRENCY: int('POSTBACK_CONCURRENCY', 1, 1000).default(16),
  POSTBACK_LEASE_SECONDS: int('POSTBACK_LEASE_SECONDS', 15, 3600).default(60),
  NIGHTLY_LEASE_SECONDS: int('NIGHTLY_LEASE_SECONDS', 3, 3600).default(120),
  ROLLUP_SCHEDULE: z
    .string()
    .trim()
    .regex(/^(off|\d{1,4})$/i, 'ROLLUP_SCHEDULE must be off or the seconds after each hour at which to roll up (0-3599)')
    .refine((v) => v.toLowerCase() === 'off' || Number(v) < 3600, 'ROLLUP_SCHEDULE must be off or the seconds after each hour at which to roll up (0-3599)')
    .default('60'),
  REPORTING_TIMEZONE: z
    .string()
    .trim()
    .refine((v) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: v });
        return true;
      } catch {
        return false;
      }
    }, 'REPORTING_TIMEZONE must be an IANA time zone such as UTC or America/Denver')
    .default('UTC'),
  NIGHTLY_SCHEDULE: z
    .string()
    .trim()
    .regex(/^(off|([01]\d|2[0-3]):[0-5]\d)$/i, 'NIGHTLY_SCHEDULE must be off or a local time HH:MM')
    .default('00:30'),
  RATE_LIMIT_WINDOW_SECONDS: int('RATE_LIMIT_WINDOW_SECONDS', 1, 86_400).default(900),
  RATE_LIMIT_IP_FAILURES: int('RATE_LIMIT_IP_FAILURES', 0, 1_000_000).default(10),
  RATE_LIMIT_CAMPAIGN_FAILURES: int('RATE_LIMIT_CAMPAIGN_FAILURES', 0, 1_000_000).default(100),
  RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: int('RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE', 1, 6000).default(60),
  RATE_LIMIT_ADMIN_FAILURES: int('RATE_LIMIT_ADMIN_FAILURES', 0, 1_000_000).default(10),
  RATE_LIMIT_DELAY_MS: int('RATE_LIMIT_DELAY_MS', 0, 10_000).default(250),
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\//, 'REDIS_URL must start with redis:// or rediss://')
    .optional(),
  // Half the cores (at least one): every bcrypt thread is a core that edits and the database lose.
  BCRYPT_CONCURRENCY: int('BCRYPT_CONCURRENCY', 1, 64).default(Math.max(1, Math.floor(os.availableParallelism() / 2))),
  BCRYPT_QUEUE: int('BCRYPT_QUEUE', 1, 100_000).default(1000),
  BCRYPT_PER_CLIENT: int('BCRYPT_PER_CLIENT', 1, 10_000).default(2),
  BCRYPT_LOW_PRIORITY: bool('BCRYPT_LOW_PRIORITY').default(true),
  BCRYPT_SUSPECT_SHARE: int('BCRYPT_SUSPECT_SHARE', 1, 100).default(25),
  TLS_CERT_FILE: z.string().trim().optional(),
  TLS_KEY_FILE: z.string().trim().optional(),
  REQUIRE_HTTPS: bool('REQUIRE_HTTPS').default(false),
  IDEMPOTENCY_TTL_HOURS: int('IDEMPOTENCY_TTL_HOURS', 1, 720).default(24),
  CONSOLE_SESSION_HOURS: int('CONSOLE_SESSION_HOURS', 1, 720).default(8),
  ADMIN_USERS: z
    .string()
    .refine((v) => parseAdminUsers(v) !== null, 'ADMIN_USERS must be comma-separated name:bcrypthash pairs with distinct names')
    .optional(),
  BATCH_WORKER: bool('BATCH_WORKER').default(true),
  BATCH_MAX_FILE_MB: int('BATCH_MAX_FILE_MB', 1, 1024).default(64),
});

/** Parses `DATABASE_URL`: `sqlite:PATH`, `sqlite::memory:`, or `mysql://user:pass@host:port/db`. */
function parseDatabaseUrl(url: string | undefined): DatabaseConfig | string {
  if (!url) return { client: 'sqlite', filename: './data/txedit.sqlite' };
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return filename ? { client: 'sqlite', filename } : 'DATABASE_URL sqlite: needs a file path';
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    try {
      const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'));
      if (!parsed.hostname || parsed.pathname.length < 2) return 'DATABASE_URL needs a host and a database name';
      return { client: 'mysql', url: parsed.toString() };
    } catch {
      return 'DATABASE_URL is not a valid URL';
    }
  }
  return 'DATABASE_URL must start with sqlite: or mysql://';
}

/** express `trust proxy`: true/false, a hop count, or a comma list of addresses/subnets/names. */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * True when express accepts the value as `trust proxy`. Asked of express itself, so start-up refuses
 * exactly what createApp would otherwise throw on later, without naming the variable.
 */
function trustProxyAccepted(value: string): boolean {
  try {
    express().set('trust proxy', parseTrustProxy(value));
    return true;
  } catch {
    return false;
  }
}

/** Builds the Config from an environment (process.env, or a test's object). Throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const cleaned = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = schema.safeParse(cleaned);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0]);
      problems.push(issue.message.includes(variable) ? issue.message : `${variable}: ${issue.message}`);
    }
  }
  const database = parseDatabaseUrl(cleaned.DATABASE_URL);
  if (typeof database === 'string') problems.push(database);
  if (Boolean(cleaned.TLS_CERT_FILE) !== Boolean(cleaned.TLS_KEY_FILE)) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  // Node refuses a headers timeout longer than the whole request's.
  if (result.success && result.data.HTTP_HEADERS_TIMEOUT_MS > result.data.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be larger than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (problems.length > 0 || !result.success || typeof database === 'string') {
    throw new ConfigError(`invalid configuration: ${[...new Set(problems)].join("; ")}`);
  }
  const v = result.data;
  return Object.freeze({
    port: v.PORT,
    host: v.HOST,
    http: Object.freeze({
      headersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS,
      maxConnections: v.HTTP_MAX_CONNECTIONS,
      maxConnectionsPerClient: v.HTTP_MAX_CONNECTIONS_PER_CLIENT,
    }),
    database,
    adminToken: v.ADMIN_TOKEN ? v.ADMIN_TOKEN : null,
    metricsToken: v.METRICS_TOKEN ? v.METRICS_TOKEN : null,
    trustProxy: parseTrustProxy(v.TRUST_PROXY),
    logLevel: v.LOG_LEVEL,
    migrateOnStart: v.MIGRATE_ON_START,
    demoData: v.DEMO_DATA,
    bcryptCost: v.BCRYPT_COST,
    credentialCacheSize: v.CREDENTIAL_CACHE_SIZE,
    credentialCacheTtlMs: v.CREDENTIAL_CACHE_TTL_SECONDS * 1000,
    databasePoolMax: v.DATABASE_POOL_MAX,
    postbacks: Object.freeze({
      retrySchedule: Object.freeze(v.POSTBACK_RETRY_SCHEDULE ?? [...DEFAULT_POSTBACK_RETRY_SCHEDULE]),
      timeoutMs: v.POSTBACK_TIMEOUT_MS,
      allowPrivateNetworks: v.POSTBACK_ALLOW_PRIVATE_NETWORKS,
      workerEnabled: v.POSTBACK_WORKER,
      concurrency: v.POSTBACK_CONCURRENCY,
      leaseMs: v.POSTBACK_LEASE_SECONDS * 1000,
    }),
    processing: Object.freeze({
      rollupDelaySeconds: v.ROLLUP_SCHEDULE.toLowerCase() === 'off' ? null : Number(v.ROLLUP_SCHEDULE),
      reportingTimezone: v.REPORTING_TIMEZONE,
      nightlyAt: v.NIGHTLY_SCHEDULE.toLowerCase() === 'off' ? null : v.NIGHTLY_SCHEDULE,
      nightlyLeaseMs: v.NIGHTLY_LEASE_SECONDS * 1000,
    }),
    security: Object.freeze({
      rateLimitWindowMs: v.RATE_LIMIT_WINDOW_SECONDS * 1000,
      rateLimitIpFailures: v.RATE_LIMIT_IP_FAILURES,
      rateLimitCampaignFailures: v.RATE_LIMIT_CAMPAIGN_FAILURES,
      rateLimitBrakedChecksPerMinute: v.RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE,
      rateLimitAdminFailures: v.RATE_LIMIT_ADMIN_FAILURES,
      rateLimitDelayMs: v.RATE_LIMIT_DELAY_MS,
      redisUrl: v.REDIS_URL ?? null,
      bcryptConcurrency: v.BCRYPT_CONCURRENCY,
      bcryptQueue: v.BCRYPT_QUEUE,
      bcryptPerClient: v.BCRYPT_PER_CLIENT,
      bcryptLowPriority: v.BCRYPT_LOW_PRIORITY,
      bcryptSuspectShare: v.BCRYPT_SUSPECT_SHARE / 100,
      tlsCertFile: v.TLS_CERT_FILE ?? null,
      tlsKeyFile: v.TLS_KEY_FILE ?? null,
      requireHttps: v.REQUIRE_HTTPS,
      idempotencyTtlMs: v.IDEMPOTENCY_TTL_HOURS * 3_600_000,
    }),
    console: Object.freeze({
      sessionTtlMs: v.CONSOLE_SESSION_HOURS * 3_600_000,
      users: Object.freeze(v.ADMIN_USERS ? (parseAdminUsers(v.ADMIN_USERS) ?? []) : []),
    }),
    batches: Object.freeze({
      workerEnabled: v.BATCH_WORKER,
      maxFileBytes: v.BATCH_MAX_FILE_MB * 1024 * 1024,
    }),
  });
}
