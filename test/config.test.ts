import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config';

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect({
      port: config.port,
      host: config.host,
      database: config.database,
      adminToken: config.adminToken,
      trustProxy: config.trustProxy,
      logLevel: config.logLevel,
      migrateOnStart: config.migrateOnStart,
      demoData: config.demoData,
      bcryptCost: config.bcryptCost,
      databasePoolMax: config.databasePoolMax,
    }).toEqual({
      port: 8080,
      host: '0.0.0.0',
      database: { client: 'sqlite', filename: './data/txedit.sqlite' },
      adminToken: null,
      trustProxy: false,
      logLevel: 'info',
      migrateOnStart: true,
      demoData: true,
      bcryptCost: 12,
      databasePoolMax: 20,
    });
    expect(config.processing).toEqual({
      rollupDelaySeconds: 60,
      reportingTimezone: 'UTC',
      nightlyAt: '00:30',
      nightlyLeaseMs: 120_000,
    });
  });

  it('treats an empty variable as unset (so ADMIN_TOKEN= leaves the admin API disabled)', () => {
    const config = loadConfig({ PORT: '', ADMIN_TOKEN: '', TRUST_PROXY: '', DATABASE_URL: '' });
    expect([config.port, config.adminToken, config.trustProxy, config.database]).toEqual([
      8080,
      null,
      false,
      { client: 'sqlite', filename: './data/txedit.sqlite' },
    ]);
  });

  it('reads the documented settings', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '127.0.0.1',
      DATABASE_URL: 'mysql://user:pass@db.example:3306/txedit',
      ADMIN_TOKEN: 'a-token-of-thirty-two-characters',
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'false',
    });
    expect([
      config.port,
      config.host,
      config.database,
      config.adminToken,
      config.logLevel,
      config.migrateOnStart,
    ]).toEqual([
      9090,
      '127.0.0.1',
      { client: 'mysql', url: 'mysql://user:pass@db.example:3306/txedit' },
      'a-token-of-thirty-two-characters',
      'warn',
      false,
    ]);
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/txedit/db.sqlite' }).database).toEqual({
      client: 'sqlite',
      filename: '/var/lib/txedit/db.sqlite',
    });
    expect(loadConfig({ DATABASE_URL: 'mariadb://u@h/d' }).database).toEqual({ client: 'mysql', url: 'mysql://u@h/d' });
  });

  it.each([
    ['false', false],
    ['true', true],
    ['TRUE', true],
    ['1', 1],
    ['loopback', 'loopback'],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['10.0.0.0/255.0.0.0', '10.0.0.0/255.0.0.0'],
  ])("reads TRUST_PROXY=%j as express's trust proxy %j", (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('bounds slow and excess HTTP connections by default, and reads the HTTP_* settings', () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 120_000,
      maxConnections: 4096,
      maxConnectionsPerClient: 256,
    });
    const env = {
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_MAX_CONNECTIONS: '100',
      HTTP_MAX_CONNECTIONS_PER_CLIENT: '0',
    };
    expect(loadConfig(env).http).toEqual({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      maxConnections: 100,
      maxConnectionsPerClient: 0,
    });
    expect(configErrorFor({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }).message).toBe(
      'invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not be larger than HTTP_REQUEST_TIMEOUT_MS',
    );
  });

  it('freezes the result', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.processing)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['HOST', '   '],
    ['DATABASE_URL', 'postgres://db/txedit'],
    ['DATABASE_URL', 'sqlite:'],
    ['DATABASE_URL', 'mysql://user:pass@/txedit'],
    ['DATABASE_URL', 'mysql://db.example'],
    ['TRUST_PROXY', 'not-an-address'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'loopback,'],
    ['TRUST_PROXY', 'Loopback'],
    ['LOG_LEVEL', 'loud'],
    ['MIGRATE_ON_START', 'maybe'],
    ['DEMO_DATA', 'sometimes'],
    ['BCRYPT_COST', '3'],
    ['BCRYPT_COST', '16'],
    ['CREDENTIAL_CACHE_SIZE', '-5'],
    ['DATABASE_POOL_MAX', '0'],
    ['POSTBACK_RETRY_SCHEDULE', '5,soon'],
    ['POSTBACK_TIMEOUT_MS', '1.5'],
    ['ROLLUP_SCHEDULE', '3600'],
    ['REPORTING_TIMEZONE', 'Mars/Olympus_Mons'],
    ['NIGHTLY_SCHEDULE', '24:00'],
    ['NIGHTLY_LEASE_SECONDS', '2'],
    ['NIGHTLY_LEASE_SECONDS', '1.5'],
    ['BATCH_MAX_FILE_MB', '0'],
    ['HTTP_HEADERS_TIMEOUT_MS', '50'],
    ['HTTP_REQUEST_TIMEOUT_MS', 'soon'],
    ['HTTP_MAX_CONNECTIONS', '0'],
    ['HTTP_MAX_CONNECTIONS_PER_CLIENT', '-1'],
  ])('refuses %s=%j with one line naming the variable', (variable, value) => {
    const { message } = configErrorFor({ [variable]: value });
    expect(message).not.toContain('\n');
    expect(message).toMatch(new RegExp(`^invalid configuration: .*\\b${variable}\\b`));
  });

  it('refuses an ADMIN_TOKEN shorter than 32 characters, in one line that does not repeat it', () => {
    const short = 'x'.repeat(31);
    expect(configErrorFor({ ADMIN_TOKEN: short }).message).toBe(
      'invalid configuration: ADMIN_TOKEN must be at least 32 characters',
    );
    expect(loadConfig({ ADMIN_TOKEN: `${short}y` }).adminToken).toBe(`${short}y`);
  });

  it('reads the brakes’ and the compare queue’s settings, with their defaults', () => {
    const pick = (env: Record<string, string>) => {
      const { security } = loadConfig(env);
      return [security.rateLimitAdminFailures, security.rateLimitBrakedChecksPerMinute, security.bcryptQueue];
    };
    expect(pick({})).toEqual([10, 60, 1000]);
    expect(
      pick({ RATE_LIMIT_ADMIN_FAILURES: '0', RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: '6', BCRYPT_QUEUE: '5' }),
    ).toEqual([0, 6, 5]);
    for (const [variable, value] of [
      ['RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE', '0'],
      ['BCRYPT_QUEUE', '0'],
      ['RATE_LIMIT_ADMIN_FAILURES', '-1'],
    ]) {
      expect(configErrorFor({ [variable]: value }).message).toMatch(
        new RegExp(`^invalid configuration: ${variable} must be a whole number`),
      );
    }
  });

  it('reports every problem at once, each named, on one line', () => {
    const { message } = configErrorFor({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'postgres://db/txedit',
      TRUST_PROXY: 'nonsense',
      BCRYPT_COST: '99',
    });
    expect(message).not.toContain('\n');
    for (const variable of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'TRUST_PROXY', 'BCRYPT_COST'])
      expect(message).toMatch(new RegExp(`\\b${variable}\\b`));
    expect(message.split('; ')).toHaveLength(5);
  });

  it('never repeats a secret in its error message', () => {
    const { message } = configErrorFor({
      DATABASE_URL: 'mysql://admin:hunter2@/txedit',
      ADMIN_TOKEN: 'sup3r-s3cret',
      PORT: 'x',
    });
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('sup3r-s3cret');
  });
});

describe('the configuration documentation', () => {
  const root = path.join(__dirname, '..');
  const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

  it('lists every variable the configuration reads, and no other, in README.md’s configuration table', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('<!-- section:configuration -->'),
      readme.indexOf('<!-- section:transaction-edit -->'),
    );
    // The first column of each row: `NAME`, or several as `A` / `B`.
    const named = [...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap(([, cell]) =>
      [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map(([, name]) => name),
    );
    expect(sorted(named)).toEqual(sorted(CONFIG_VARIABLES));
  });

  it('lists every variable the configuration reads, and no other, in .env.example', () => {
    const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
    expect(sorted([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map(([, name]) => name))).toEqual(
      sorted(CONFIG_VARIABLES),
    );
  });
});
