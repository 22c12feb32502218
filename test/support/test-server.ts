import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { createListener } from '../../src/http/listener';
import { createTestDatabase, type TestDatabase } from './databases';
import { createServices, Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { Database } from '../../src/store/database';

/** The admin token every test server accepts (ADMIN_TOKEN needs 32 characters at least). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A real HTTP server on an ephemeral loopback port, over a test database. */
export interface TestServer {
  baseUrl: string;
  services: Services;
  close(): Promise<void>;
}

/** Starts the whole app as production builds it, with config built from `env` overrides. */
export async function startTestServer(
  db: Database,
  env: Record<string, string> = {},
  options: { beforeApp?: (services: Services) => void } = {},
): Promise<TestServer> {
  // The in-process postback worker and the failed-attempt limits are off unless a test turns them on:
  // most tests send many deliberate failures from 127.0.0.1.
  const config = loadConfig({
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    POSTBACK_WORKER: 'false',
    IMPACT_API_WORKER: 'false',
    RATE_LIMIT_IP_FAILURES: '0',
    RATE_LIMIT_CAMPAIGN_FAILURES: '0',
    RATE_LIMIT_ADMIN_FAILURES: '0',
    BCRYPT_PER_CLIENT: '64',
    ...env,
  });
  const services = createServices(config, db, createLogger(config.logLevel));
  // A test may swap a part for a hand-written fake before the app is built from the services.
  options.beforeApp?.(services);
  // The same listener production uses (header limits included), plain HTTP.
  const { server } = createListener(createApp(services), { certFile: null, keyFile: null }, config.http, {
    trustProxy: config.trustProxy,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // The postback worker as POSTBACK_WORKER says; a test starts the batch worker or the scheduler itself.
  services.lifecycle.start({ batchWorker: false, scheduler: false });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    services,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      // The database outlives the server: the test drops it, or starts another server over it.
      await services.lifecycle.stop({ keepDatabase: true });
    },
  };
}

/** Calls the admin API with the test token; returns status and parsed JSON. */
export async function adminRequest(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token = TEST_ADMIN_TOKEN,
) {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/**
 * The usual set-up of an integration test file: a private database of `engine` and a real server over it
 * (env overrides as for startTestServer), made before the file's tests and removed after them. The
 * returned object is filled in by `beforeAll`; read it inside tests.
 */
export function useTestServer(
  engine: 'sqlite' | 'mysql',
  env: Record<string, string> = {},
): { database: TestDatabase; server: TestServer } {
  const context = {} as { database: TestDatabase; server: TestServer };
  beforeAll(async () => {
    context.database = await createTestDatabase(engine);
    context.server = await startTestServer(context.database.db, env);
  });
  afterAll(async () => {
    await context.server?.close();
    await context.database?.drop();
  });
  return context;
}
