import express from 'express';
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_POSTBACK_RETRY_SCHEDULE, parseRetrySchedule } from './postbacks/retry-schedule';
import { parseAdminUsers } from './console/admin-users';

/** Where the data lives: an embedded SQLite file or a MySQL/MariaDB server. */
export type DatabaseConfig = { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string };

/** Thrown with every problem found, one line, each naming its variable. */
export class ConfigError extends Error {}

/** One environment variable, and the schema reading its text (undefined when unset or empty) into its Config value. */
class Setting<S extends z.ZodType = z.ZodType> {
  constructor(
    readonly variable: string,
    readonly schema: S,
  ) {}
}

/**
 * The setting read from `variable` by `schema` (its default included). Each message of the schema is
 * what follows the variable's name in the error: "must be …".
 */
const setting = <S extends z.ZodType>(variable: string, schema: S) => new Setting(variable, schema);

const bool = () =>
  z
    .string()
    .transform((v) => v.trim().toLowerCase())
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((v) => v >= min && v <= max, `must be a whole number from ${min} to ${max}`);

/** Text that is null when unset. */
const optionalText = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => v ?? null);

/** A TCP port, null when unset (0: any free port, for tests). */
const optionalPort = () =>
  int(0, 65535)
    .optional()
    .transform((v) => v ?? null);

const secondsToMs = (seconds: number) => seconds * 1000;
const hoursToMs = (hours: number) => hours * 3_600_000;

/**
 * Every environment variable, where its value lands in the Config, its schema and default. The Config
 * type is read off this table; README.md's configuration table and .env.example document each variable
 * (test/config.test.ts checks that they name them all). Problems are reported in this order.
 */
const settings = {
  /** Port of the HTTP(S) server. */
  port: setting('PORT', int(0, 65535).default(8080)),
  /** Address the server listens on. */
  host: setting('HOST', z.string().trim().min(1, 'must not be empty').default('0.0.0.0')),
  /** Slow and excess connections: header/request timeouts, overall and per-client connection caps. */
  http: {
    /** Time from a connection's (or request's) start until its headers are complete; then 408 and close. */
    headersTimeoutMs: setting('HTTP_HEADERS_TIMEOUT_MS', int(100, 300_000).default(10_000)),
    /** Time until the whole request, body included, is received (a batch upload is one request). */
    requestTimeoutMs: setting('HTTP_REQUEST_TIMEOUT_MS', int(100, 3_600_000).default(120_000)),
    /** Open connections at once; more are closed as soon as they are accepted. */
    maxConnections: setting('HTTP_MAX_CONNECTIONS', int(1, 1_000_000).default(4096)),
    /** Open connections from one client address (IPv6: one /64); 0: no per-client cap. */
    maxConnectionsPerClient: setting('HTTP_MAX_CONNECTIONS_PER_CLIENT', int(0, 1_000_000).default(256)),
  },
  /**
   * Bearer token of the admin API (at least 32 characters); when unset the admin API refuses everything.
   * Long enough that guessing it is hopeless even at the rate the admin brake still checks tokens.
   */
  adminToken: setting(
    'ADMIN_TOKEN',
    z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .transform((v) => v ?? null),
  ),
  /** Bearer token of `GET /metrics` (Prometheus); when unset the endpoint is off (404). */
  metricsToken: setting(
    'METRICS_TOKEN',
    z
      .string()
      .trim()
      .min(32, 'must be at least 32 characters')
      .optional()
      .transform((v) => v ?? null),
  ),
  /** Value for express's `trust proxy`; false trusts no proxy (X-Forwarded-For ignored). */
  trustProxy: setting(
    'TRUST_PROXY',
    z
      .string()
      .trim()
      .refine(
        trustProxyAccepted,
        'must be true, false, a hop count, or a comma list of loopback, linklocal, uniquelocal, IP addresses and CIDR ranges',
      )
      .optional()
      .transform(parseTrustProxy),
  ),
  logLevel: setting(
    'LOG_LEVEL',
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),
  /** Apply pending migrations at start (else wait for `txedit migrate`). */
  migrateOnStart: setting('MIGRATE_ON_START', bool().default(true)),
  /** Create demo data on an empty embedded database. */
  demoData: setting('DEMO_DATA', bool().default(true)),
  /** bcrypt cost for newly set campaign passwords. */
  bcryptCost: setting('BCRYPT_COST', int(4, 15).default(12)),
  /** Verified-credential cache: entries and lifetime. */
  credentialCacheSize: setting('CREDENTIAL_CACHE_SIZE', int(0, 1_000_000).default(10_000)),
  credentialCacheTtlMs: setting('CREDENTIAL_CACHE_TTL_SECONDS', int(0, 86_400).default(300).transform(secondsToMs)),
  /** Size of the MySQL/MariaDB connection pool. */
  databasePoolMax: setting('DATABASE_POOL_MAX', int(1, 500).default(20)),
  /**
   * Coalesce concurrent /transaction.edit changes into shared units of work (issue 22); false: each change
   * in a unit of its own, as before (for comparison, or to rule coalescing out when diagnosing).
   */
  editCoalescing: setting('EDIT_COALESCING', bool().default(true)),
  /**
   * Checkpoint a SQLite file's WAL in a worker thread (its own connection) rather than inside the COMMITs
   * of the one writer connection, on the event loop; false: SQLite's own checkpoints (every 1000 pages).
   */
  sqliteCheckpointWorker: setting('SQLITE_CHECKPOINT_WORKER', bool().default(true)),
  postbacks: {
    /** Seconds between attempts; when exhausted the delivery is marked failed. */
    retrySchedule: setting(
      'POSTBACK_RETRY_SCHEDULE',
      z
        .string()
        .refine((v) => {
          try {
            parseRetrySchedule(v);
            return true;
          } catch {
            return false;
          }
        }, 'must be comma-separated positive whole seconds, e.g. 5,300,1800')
        .transform((v) => parseRetrySchedule(v))
        .optional()
        .transform((v): readonly number[] => Object.freeze(v ?? [...DEFAULT_POSTBACK_RETRY_SCHEDULE])),
    ),
    /** Whole-request timeout of one delivery attempt. */
    timeoutMs: setting('POSTBACK_TIMEOUT_MS', int(100, 120_000).default(10_000)),
    allowPrivateNetworks: setting('POSTBACK_ALLOW_PRIVATE_NETWORKS', bool().default(false)),
    /** Run the outbox worker inside the server process. */
    workerEnabled: setting('POSTBACK_WORKER', bool().default(true)),
    concurrency: setting('POSTBACK_CONCURRENCY', int(1, 1000).default(16)),
    leaseMs: setting('POSTBACK_LEASE_SECONDS', int(15, 3600).default(60).transform(secondsToMs)),
  },
  processing: {
    /** How long a nightly run's lease holds unrenewed (renewed every third of it while the run works). */
    nightlyLeaseMs: setting('NIGHTLY_LEASE_SECONDS', int(3, 3600).default(120).transform(secondsToMs)),
    /** Seconds after each hour boundary at which the roll-up runs; null: not scheduled. */
    rollupDelaySeconds: setting(
      'ROLLUP_SCHEDULE',
      z
        .string()
        .trim()
        .regex(/^(off|\d{1,4})$/i, 'must be off or the seconds after each hour at which to roll up (0-3599)')
        .refine(
          (v) => v.toLowerCase() === 'off' || Number(v) < 3600,
          'must be off or the seconds after each hour at which to roll up (0-3599)',
        )
        .default('60')
        .transform((v) => (v.toLowerCase() === 'off' ? null : Number(v))),
    ),
    /** IANA time zone of reporting days (nightly processing, daily statistics). */
    reportingTimezone: setting(
      'REPORTING_TIMEZONE',
      z
        .string()
        .trim()
        .refine((v) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: v });
            return true;
          } catch {
            return false;
          }
        }, 'must be an IANA time zone such as UTC or America/Denver')
        .default('UTC'),
    ),
    /** Local time (HH:MM in reportingTimezone) at which nightly processing runs; null: not scheduled. */
    nightlyAt: setting(
      'NIGHTLY_SCHEDULE',
      z
        .string()
        .trim()
        .regex(/^(off|([01]\d|2[0-3]):[0-5]\d)$/i, 'must be off or a local time HH:MM')
        .default('00:30')
        .transform((v) => (v.toLowerCase() === 'off' ? null : v)),
    ),
  },
  security: {
    rateLimitWindowMs: setting('RATE_LIMIT_WINDOW_SECONDS', int(1, 86_400).default(900).transform(secondsToMs)),
    /** Failed attempts one client IP may make per window (0: no limit). */
    rateLimitIpFailures: setting('RATE_LIMIT_IP_FAILURES', int(0, 1_000_000).default(10)),
    /** Failed attempts against one campaign per window, from IPs not white-listed for it (0: no limit). */
    rateLimitCampaignFailures: setting('RATE_LIMIT_CAMPAIGN_FAILURES', int(0, 1_000_000).default(100)),
    /** Credentials still checked per minute for a braked campaign, or from a braked address at the admin doors. */
    rateLimitBrakedChecksPerMinute: setting('RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE', int(1, 6000).default(60)),
    /** Failed admin authentications (API bearer token, console sign-in) one client may make per window (0: no limit). */
    rateLimitAdminFailures: setting('RATE_LIMIT_ADMIN_FAILURES', int(0, 1_000_000).default(10)),
    /** How long a rate-limited /transaction.edit answer is held back (0: at once). */
    rateLimitDelayMs: setting('RATE_LIMIT_DELAY_MS', int(0, 10_000).default(250)),
    /** Shared rate-limit counters; null: in-process counters. */
    redisUrl: setting(
      'REDIS_URL',
      z
        .string()
        .trim()
        .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
        .optional()
        .transform((v) => v ?? null),
    ),
    /**
     * bcrypt compares at once (libuv threadpool share). Half the cores (at least one) by default: every
     * bcrypt thread is a core that edits and the database lose.
     */
    bcryptConcurrency: setting(
      'BCRYPT_CONCURRENCY',
      int(1, 64).default(Math.max(1, Math.floor(os.availableParallelism() / 2))),
    ),
    /** Compares that may wait, per priority (known clients, known campaigns, others). */
    bcryptQueue: setting('BCRYPT_QUEUE', int(1, 100_000).default(1000)),
    /** Uncached password compares one client IP may have waiting or running at once. */
    bcryptPerClient: setting('BCRYPT_PER_CLIENT', int(1, 10_000).default(2)),
    /** Compares for clients that failed lately run in a separate process at the lowest CPU priority. */
    bcryptLowPriority: setting('BCRYPT_LOW_PRIORITY', bool().default(true)),
    /** The share (0–1] of one core the compares of clients that failed lately may use together (the variable: percent). */
    bcryptSuspectShare: setting(
      'BCRYPT_SUSPECT_SHARE',
      int(1, 100)
        .default(25)
        .transform((percent) => percent / 100),
    ),
    /** PEM certificate and key for serving HTTPS directly; both or neither. */
    tlsCertFile: setting('TLS_CERT_FILE', optionalText()),
    tlsKeyFile: setting('TLS_KEY_FILE', optionalText()),
    /** Refuse /transaction.edit over plain HTTP. */
    requireHttps: setting('REQUIRE_HTTPS', bool().default(false)),
    /** How long an Idempotency-Key answer is replayed. */
    idempotencyTtlMs: setting('IDEMPOTENCY_TTL_HOURS', int(1, 720).default(24).transform(hoursToMs)),
  },
  console: {
    /** Lifetime of a web console session (from sign-in), in milliseconds. */
    sessionTtlMs: setting('CONSOLE_SESSION_HOURS', int(1, 720).default(8).transform(hoursToMs)),
    /** Named console users (ADMIN_USERS) with bcrypt hashes; empty: sign in with ADMIN_TOKEN only. */
    users: setting(
      'ADMIN_USERS',
      z
        .string()
        .refine((v) => parseAdminUsers(v) !== null, 'must be comma-separated name:bcrypthash pairs with distinct names')
        .optional()
        .transform((v) => Object.freeze(v ? (parseAdminUsers(v) ?? []) : [])),
    ),
  },
  batches: {
    /** Run the batch processor inside the server process. */
    workerEnabled: setting('BATCH_WORKER', bool().default(true)),
    maxFileBytes: setting(
      'BATCH_MAX_FILE_MB',
      int(1, 1024)
        .default(64)
        .transform((megabytes) => megabytes * 1024 * 1024),
    ),
    /** The currency of the network's account: an impact.com row with another `CurrencyCode` is MALFORMED. */
    accountCurrency: setting(
      'ACCOUNT_CURRENCY',
      z
        .string()
        .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 currency code, e.g. USD')
        .default('USD')
        .transform((code) => code.toUpperCase()),
    ),
  },
  /** Intake of impact.com files: FTP/FTPS and SFTP upload, pulls from brands' servers, e-mail. */
  intake: {
    /** Address the FTP, SFTP and SMTP servers listen on; unset: HOST's. */
    host: setting('INTAKE_HOST', optionalText()),
    /** Directory of upload users' files, the pull-password key and a generated SFTP host key. */
    dir: setting('INTAKE_DIR', z.string().trim().min(1, 'must not be empty').default('./data/intake')),
    /** Port of the FTP server (explicit TLS with TLS_CERT_FILE/TLS_KEY_FILE); null: off. */
    ftpPort: setting('FTP_PORT', optionalPort()),
    /** Allow FTP log-ins without AUTH TLS although the TLS files are set. */
    ftpAllowPlain: setting('FTP_ALLOW_PLAIN', bool().default(false)),
    /** Passive data ports, `MIN-MAX`; null: any free port. */
    ftpPassivePorts: setting(
      'FTP_PASSIVE_PORTS',
      z
        .string()
        .trim()
        .regex(/^\d{1,5}-\d{1,5}$/, 'must be a port range MIN-MAX, e.g. 30000-30100')
        .transform((v) => v.split('-').map(Number) as [number, number])
        .refine(([min, max]) => min >= 1 && max <= 65535 && min <= max, 'must be a port range MIN-MAX within 1-65535')
        .transform(([min, max]) => ({ min, max }))
        .optional()
        .transform((v) => v ?? null),
    ),
    /** The address passive replies name (the server's public IP or name); null: the intake host's. */
    ftpPublicHost: setting('FTP_PUBLIC_HOST', optionalText()),
    /** Port of the SFTP server; null: off. */
    sftpPort: setting('SFTP_PORT', optionalPort()),
    /** PEM private host key of the SFTP server; null: generated once under INTAKE_DIR. */
    sftpHostKeyFile: setting('SFTP_HOST_KEY_FILE', optionalText()),
    /** Port of the SMTP server taking files by e-mail; null: off. */
    smtpPort: setting('SMTP_PORT', optionalPort()),
    /** Domain of campaigns' intake addresses (`<random>@SMTP_DOMAIN`). */
    smtpDomain: setting(
      'SMTP_DOMAIN',
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a domain name')
        .optional()
        .transform((v) => v ?? null),
    ),
    /** Time between pulls from each brand's server. */
    pullIntervalMs: setting('INTAKE_PULL_INTERVAL_HOURS', int(1, 720).default(24).transform(hoursToMs)),
    /** Whole time one pull may take (connect, list, download). */
    pullTimeoutMs: setting('INTAKE_PULL_TIMEOUT_SECONDS', int(5, 3600).default(300).transform(secondsToMs)),
    /** Allow pulls from hosts in private and reserved ranges (local tests only). */
    allowPrivateNetworks: setting('INTAKE_ALLOW_PRIVATE_NETWORKS', bool().default(false)),
    /** Verify a brand's FTPS certificate (false only for a test server's self-signed one). */
    pullVerifyTls: setting('INTAKE_PULL_VERIFY_TLS', bool().default(true)),
  },
  impactApi: {
    /** Run the worker applying impact.com API submissions inside the server process. */
    workerEnabled: setting('IMPACT_API_WORKER', bool().default(true)),
    /** Calls one impact.com API account may make per hour (impact.com's own default). */
    rateLimitPerHour: setting('IMPACT_API_RATE_LIMIT_PER_HOUR', int(1, 1_000_000).default(1000)),
  },
  /**
   * Where the data lives: `sqlite:PATH`, `sqlite::memory:`, or `mysql://user:pass@host:port/db`.
   * Read last, so that its problem follows the others' in the error.
   */
  database: setting(
    'DATABASE_URL',
    z
      .string()
      .optional()
      .transform((url, ctx) => {
        const database = parseDatabaseUrl(url);
        if (typeof database !== 'string') return database;
        ctx.issues.push({ code: 'custom', message: database, input: url });
        return z.NEVER;
      }),
  ),
};

/** A table of settings (and groups of them). */
interface Settings {
  readonly [key: string]: Setting | Settings;
}

/** The values of a table of settings, nested as the table is. */
type ValuesOf<S> = { [K in keyof S]: S[K] extends Setting<infer Schema> ? z.output<Schema> : ValuesOf<S[K]> };

/** The whole, validated, frozen configuration (each field documented at its entry in `settings`). */
export type Config = ValuesOf<typeof settings>;

/** Problems across variables: on their texts, or on the Config once the variables have read well. */
const checks: ReadonlyArray<(texts: Texts, config: Config | null) => string | null> = [
  (texts) =>
    Boolean(texts.TLS_CERT_FILE) !== Boolean(texts.TLS_KEY_FILE)
      ? 'TLS_CERT_FILE and TLS_KEY_FILE must be set together'
      : null,
  // Node refuses a headers timeout longer than the whole request's.
  (_texts, config) =>
    config !== null && config.http.headersTimeoutMs > config.http.requestTimeoutMs
      ? 'HTTP_HEADERS_TIMEOUT_MS must not be larger than HTTP_REQUEST_TIMEOUT_MS'
      : null,
];

/** The variables' texts, undefined when unset or empty. */
type Texts = Record<string, string | undefined>;

/** Every setting of the table, in its order. */
function settingsOf(table: Settings): Setting[] {
  return Object.values(table).flatMap((entry) => (entry instanceof Setting ? [entry] : settingsOf(entry)));
}

/** The names of every environment variable the configuration reads, in the table's order. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(settingsOf(settings).map((entry) => entry.variable));

/** Reads a table of settings from the texts into frozen values; each problem goes to `problems`. */
function readSettings(table: Settings, texts: Texts, problems: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(table)) {
    if (!(entry instanceof Setting)) {
      values[key] = readSettings(entry, texts, problems);
      continue;
    }
    const result = entry.schema.safeParse(texts[entry.variable]);
    if (result.success) values[key] = result.data;
    else for (const issue of result.error.issues) problems.push(`${entry.variable} ${issue.message}`);
  }
  return Object.freeze(values);
}

/** Parses `DATABASE_URL`: `sqlite:PATH`, `sqlite::memory:`, or `mysql://user:pass@host:port/db`; or says what is wrong. */
function parseDatabaseUrl(url: string | undefined): DatabaseConfig | string {
  if (!url) return { client: 'sqlite', filename: './data/txedit.sqlite' };
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return filename ? { client: 'sqlite', filename } : 'sqlite: needs a file path';
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    try {
      const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'));
      if (!parsed.hostname || parsed.pathname.length < 2) return 'needs a host and a database name';
      return { client: 'mysql', url: parsed.toString() };
    } catch {
      return 'is not a valid URL';
    }
  }
  return 'must start with sqlite: or mysql://';
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
  const texts: Texts = Object.fromEntries(
    CONFIG_VARIABLES.map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const problems: string[] = [];
  const values = readSettings(settings, texts, problems) as Config;
  // The checks see the values once every variable reads well; a bad DATABASE_URL (its meaning rather
  // than its syntax) hides none of their problems.
  const complete = problems.every((problem) => problem.startsWith('DATABASE_URL '));
  for (const check of checks) {
    const problem = check(texts, complete ? values : null);
    if (problem !== null) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${[...new Set(problems)].join('; ')}`);
  return values;
}
