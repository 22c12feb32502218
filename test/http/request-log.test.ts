import pino from 'pino';
import { createApp } from '../../src/app';
import { createServices, Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { listenOnLoopback, rawRequest } from './raw-http';

// The request log of the whole app: each line names the path the client asked for, mount prefix and
// all, and never its query string or body.
describe('request log lines of the app (SQLite)', () => {
  let database: TestDatabase;
  let services: Services;
  let server: Awaited<ReturnType<typeof listenOnLoopback>>;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    const config = loadConfig({
      ADMIN_TOKEN: 'log-test-token-0123456789abcdef0123',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
      POSTBACK_WORKER: 'false',
      BATCH_WORKER: 'false',
    });
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    services = createServices(config, database.db, logger);
    server = await listenOnLoopback(createApp(services));
  });
  afterAll(async () => {
    await server?.close();
    await services?.limiter.close();
    await services?.passwords.close();
    await database?.drop();
  });

  /** The request log line of the answer's X-Request-Id (written when the response has finished). */
  async function loggedPathOf(answer: { headers: Array<[string, string]> }): Promise<unknown> {
    const id = answer.headers.find(([name]) => name.toLowerCase() === 'x-request-id')?.[1];
    for (let tries = 0; tries < 50; tries++) {
      const line = lines.find((candidate) => candidate.msg === 'request' && candidate.reqId === id);
      if (line) return line.path;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no request log line for ${id}`);
  }

  it.each<[string, string, string, Record<string, string>, string | undefined, string]>([
    [
      'the admin API',
      'GET',
      '/api/v1/campaigns?search=secret-search',
      { authorization: 'Bearer log-test-token' },
      undefined,
      '/api/v1/campaigns',
    ],
    [
      'an admin API refusal',
      'GET',
      '/api/v1/campaigns/abc?x=secret-x',
      { authorization: 'Bearer log-test-token' },
      undefined,
      '/api/v1/campaigns/abc',
    ],
    [
      'a console post',
      'POST',
      '/admin/sign-in?next=secret-next',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'token=secret-body',
      '/admin/sign-in',
    ],
    ['a console page', 'GET', '/admin/sign-in', {}, undefined, '/admin/sign-in'],
    [
      '/transaction.edit',
      'GET',
      '/transaction.edit?Password=secret-password&TransactionID=1',
      {},
      undefined,
      '/transaction.edit',
    ],
    ['/healthz', 'GET', '/healthz', {}, undefined, '/healthz'],
  ])('logs %s with its full path', async (_what, method, path, headers, body, logged) => {
    const answer = await rawRequest(server.baseUrl, path, { method, headers, body });
    expect(await loggedPathOf(answer)).toBe(logged);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});
