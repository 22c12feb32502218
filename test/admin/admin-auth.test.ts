import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { postSignIn } from '../console/console-client';
import { adminRequest, startTestServer, TEST_ADMIN_TOKEN, TestServer } from '../support/test-server';

/** Every route of the admin API with a body that would succeed if the caller were let in. */
// Always three entries: jest's it.each would take a missing third argument for a `done` callback.
const ROUTES: Array<[string, string, unknown]> = [
  ['POST', '/affiliates', { name: 'Let me in' }],
  ['GET', '/affiliates/1', undefined],
  ['PATCH', '/affiliates/1', { name: 'x' }],
  ['POST', '/campaigns', { name: 'Let me in' }],
  ['GET', '/campaigns/1', undefined],
  ['PATCH', '/campaigns/1', { password: null }],
  ['POST', '/whitelist', { address: '0.0.0.0/0' }],
  ['GET', '/whitelist', undefined],
  ['DELETE', '/whitelist/1', undefined],
  ['POST', '/transactions', { campaignId: 1, affiliateId: 1, affiliatePayout: '1', merchantRevenue: '1' }],
  ['GET', '/transactions?clickId=x', undefined],
  ['GET', '/transactions/1', undefined],
  ['GET', '/no-such-route', undefined],
];

async function rawAdmin(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe.each(testEngines())('admin API authentication on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let disabled: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    disabled = await startTestServer(database.db, { ADMIN_TOKEN: '' });
  });
  afterAll(async () => {
    await server?.close();
    await disabled?.close();
    await database?.drop();
  });

  const unauthorized = { error: { code: 'unauthorized', message: 'missing or invalid bearer token' } };

  /** Row counts of the tables a let-in request would write. */
  const counts = async () =>
    Promise.all(
      ['affiliates', 'campaigns', 'whitelist_entries', 'transactions'].map(async (table) =>
        Number((await database.db.knex(table).count({ n: '*' }))[0].n),
      ),
    );

  it.each(ROUTES)('refuses %s %s without an Authorization header', async (method, path, body) => {
    const before = await counts();
    const answer = await rawAdmin(server.baseUrl, method, path, {}, body);
    expect([answer.status, answer.body]).toEqual([401, unauthorized]);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['a wrong token', `Bearer wrong-${TEST_ADMIN_TOKEN}`],
    ['a token with a suffix', `Bearer ${TEST_ADMIN_TOKEN}x`],
    ['a prefix of the token', `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`],
    ['the token under another scheme', `Basic ${TEST_ADMIN_TOKEN}`],
    ['the bare token', TEST_ADMIN_TOKEN],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s', async (_label, authorization) => {
    const before = await counts();
    for (const [method, path, body] of ROUTES) {
      const answer = await rawAdmin(server.baseUrl, method, path, { authorization }, body);
      expect([method, path, answer.status, answer.body]).toEqual([method, path, 401, unauthorized]);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses every route, whatever the token, when ADMIN_TOKEN is unset', async () => {
    const before = await counts();
    for (const authorization of [`Bearer ${TEST_ADMIN_TOKEN}`, 'Bearer ', '']) {
      for (const [method, path, body] of ROUTES) {
        const answer = await rawAdmin(disabled.baseUrl, method, path, authorization ? { authorization } : {}, body);
        expect([method, path, answer.status, answer.body]).toEqual([
          method,
          path,
          401,
          { error: { code: 'admin_api_disabled', message: 'the admin API is disabled: set ADMIN_TOKEN' } },
        ]);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('lets the right token in, whatever the case of the scheme', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const answer = await rawAdmin(server.baseUrl, 'GET', '/whitelist', {
        authorization: `${scheme} ${TEST_ADMIN_TOKEN}`,
      });
      expect([answer.status, answer.body]).toEqual([200, []]);
    }
  });

  it('answers an unknown route with a JSON 404 once authenticated', async () => {
    const answer = await adminRequest(server.baseUrl, 'GET', '/no-such-route');
    expect([answer.status, answer.body]).toEqual([
      404,
      { error: { code: 'not_found', message: 'no route GET /api/v1/no-such-route' } },
    ]);
  });

  it('answers malformed JSON with a JSON 400', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/affiliates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } });
  });
});

describe.each(testEngines())('the admin brake on wrong bearer tokens on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    // Five failures per window, then one token checked a minute: no test below can outrun its interval.
    server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_ADMIN_FAILURES: '5',
      RATE_LIMIT_BRAKED_CHECKS_PER_MINUTE: '1',
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const from = (ip: string, token: string) => ({ 'x-forwarded-for': ip, authorization: `Bearer ${token}` });
  const limited = {
    error: {
      code: 'rate_limited',
      message: expect.stringMatching(/^too many failed authentications from this address; retry after \d+ s$/),
    },
  };
  const wrong = (i: number) => `wrong-${i}-${TEST_ADMIN_TOKEN}`;

  it('answers 429 with Retry-After past the limit, writes nothing, and lets the right token in from another address', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.20', wrong(i)))).status).toBe(401);
    }
    const before = Number((await database.db.knex('affiliates').count({ n: '*' }))[0].n);
    for (let i = 5; i < 25; i++) {
      const answer = await rawAdmin(server.baseUrl, 'POST', '/affiliates', from('198.51.100.20', wrong(i)), {
        name: 'Let me in',
      });
      expect([answer.status, answer.body]).toEqual([429, limited]);
      // The seconds until the next check: at most the interval (a minute here), not the window's 15.
      const seconds = Number(answer.headers.get('retry-after'));
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(60);
      expect((answer.body as { error: { message: string } }).error.message).toContain(`retry after ${seconds} s`);
    }
    expect(Number((await database.db.knex('affiliates').count({ n: '*' }))[0].n)).toBe(before);
    expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.21', TEST_ADMIN_TOKEN))).status).toBe(
      200,
    );
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 0; i < 5; i++) {
      expect(
        (await rawAdmin(server.baseUrl, 'GET', '/whitelist', from(`2001:db8:5:6::${i + 1}`, wrong(i)))).status,
      ).toBe(401);
    }
    expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('2001:db8:5:6:ffff::9', wrong(9)))).status).toBe(
      429,
    );
    expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('2001:db8:5:7::1', wrong(9)))).status).toBe(401);
  });

  it('still checks one token per interval from a braked address: the right one passes, nothing else is looked at until the next', async () => {
    for (let i = 0; i < 5; i++) await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.30', wrong(i)));
    const admin = await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.30', TEST_ADMIN_TOKEN));
    expect(admin.status).toBe(200);
    // The interval's check is spent: the right token too waits for the next one.
    for (const token of [wrong(6), TEST_ADMIN_TOKEN]) {
      const answer = await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.30', token));
      expect(answer.status).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
  });

  it('refuses a request without a bearer token with 401 and does not count it', async () => {
    for (let i = 0; i < 8; i++)
      expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', { 'x-forwarded-for': '198.51.100.40' })).status).toBe(
        401,
      );
    expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.40', TEST_ADMIN_TOKEN))).status).toBe(
      200,
    );
  });

  it('shares its count with the console sign-in, which still takes the admin token', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.50' };
    for (let i = 0; i < 3; i++)
      expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.50', wrong(i)))).status).toBe(401);
    for (let i = 3; i < 5; i++) expect((await postSignIn(server.baseUrl, { secret: wrong(i) }, ip)).status).toBe(401);
    expect((await rawAdmin(server.baseUrl, 'GET', '/whitelist', from('198.51.100.50', wrong(5)))).status).toBe(429);
    expect((await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN }, ip)).status).toBe(429);
    expect(
      (await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN }, { 'x-forwarded-for': '198.51.100.51' })).status,
    ).toBe(303);
  });
});
