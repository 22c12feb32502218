import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { parseLinkTrustXml } from '../support/linktrust-xml';
import { startTestServer, type TestServer } from '../support/test-server';
import { createAccount, impactCall } from './impact-api-helpers';

const RATE_LIMITED = 'Temporary failure: rate limited LinkTrust API was unable to complete the request';

describe.each(testEngines())('the impact.com API brake and call limit on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db, {
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_IP_FAILURES: '3',
      RATE_LIMIT_WINDOW_SECONDS: '600',
      IMPACT_API_RATE_LIMIT_PER_HOUR: '3',
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('counts failed Basic authentications against the brake of /transaction.edit (same client key)', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const account = await createAccount(server.baseUrl, [campaign.id]);
    const from = { 'x-forwarded-for': '198.51.100.7' };
    const path = `/Advertisers/${account.accountSid}/FTPFileSubmissions`;
    const wrong = { accountSid: account.accountSid, authToken: 'not-the-token' };
    for (let i = 0; i < 3; i++)
      expect((await impactCall(server.baseUrl, 'GET', path, { account: wrong, headers: from })).status).toBe(401);
    // Braked: even the right token is refused until the window ends, with Retry-After.
    const braked = await impactCall(server.baseUrl, 'GET', path, { account, headers: from });
    expect(braked.status).toBe(429);
    expect(Number(braked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(braked.body).toEqual({ Status: 'ERROR', Message: expect.stringContaining('failed authentications') });
    // /transaction.edit from the same client is braked by those failures too.
    const edit = await fetch(
      `${server.baseUrl}/transaction.edit?${new URLSearchParams({ TransactionID: String(transaction.id), Password: String(campaign.password), MerchantRevenue: '1.00' })}`,
      { headers: from },
    );
    expect(parseLinkTrustXml(await edit.text()).error?.message).toBe(RATE_LIMITED);
    // Another client is not braked.
    const other = await impactCall(server.baseUrl, 'GET', path, {
      account,
      headers: { 'x-forwarded-for': '198.51.100.8' },
    });
    expect(other.status).toBe(200);
  });

  it('answers X-RateLimit-* on every call and 429 past the hourly limit, per account', async () => {
    const { campaign } = await buildScene(server.services);
    const account = await createAccount(server.baseUrl, [campaign.id]);
    const another = await createAccount(server.baseUrl, [campaign.id]);
    const path = (sid: string) => `/Advertisers/${sid}/FTPFileSubmissions`;
    const headers = { 'x-forwarded-for': '198.51.100.20' };
    const seen: Array<[number, string | null, string | null]> = [];
    let reset: string | null = null;
    for (let i = 0; i < 4; i++) {
      const answer = await impactCall(server.baseUrl, 'GET', path(account.accountSid), { account, headers });
      seen.push([answer.status, answer.headers.get('x-ratelimit-limit'), answer.headers.get('x-ratelimit-remaining')]);
      reset ??= answer.headers.get('x-ratelimit-reset');
      expect(answer.headers.get('x-ratelimit-reset')).toBe(reset);
      if (answer.status === 429) {
        expect(answer.body.Status).toBe('ERROR');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(seen).toEqual([
      [200, '3', '2'],
      [200, '3', '1'],
      [200, '3', '0'],
      [429, '3', '0'],
    ]);
    const resetSeconds = Number(reset);
    expect(resetSeconds).toBeGreaterThan(Date.now() / 1000);
    expect(resetSeconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600);
    // A refused PUT stores nothing.
    const count = async () => Number((await database.db.knex('api_submissions').count({ n: '*' }))[0].n);
    const before = await count();
    const refused = await impactCall(server.baseUrl, 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
      account,
      headers,
      form: { ActionId: '1000.1', Amount: '1.00' },
    });
    expect(refused.status).toBe(429);
    expect(await count()).toBe(before);
    // Another account has its own hour.
    const fresh = await impactCall(server.baseUrl, 'GET', path(another.accountSid), { account: another, headers });
    expect([fresh.status, fresh.headers.get('x-ratelimit-remaining')]).toEqual([200, '2']);
  });
});
