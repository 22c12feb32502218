import Redis from 'ioredis';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { adminRequest, startTestServer, type TestServer } from '../support/test-server';

const redisUrl = process.env.TEST_REDIS_URL;
const LIMIT = 5;

/** The rate-limit headers of an answer. */
function rateHeaders(response: Response) {
  return {
    limit: response.headers.get('x-ratelimit-limit'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    reset: response.headers.get('x-ratelimit-reset'),
  };
}

(redisUrl ? describe.each(testEngines()) : describe.skip.each(testEngines()))(
  'the impact.com API call limit shared through Redis by two instances on %s (TEST_REDIS_URL)',
  (engine) => {
    let database: TestDatabase;
    let redis: Redis;
    const servers: TestServer[] = [];
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      redis = new Redis(redisUrl as string);
      const env = { REDIS_URL: redisUrl as string, IMPACT_API_RATE_LIMIT_PER_HOUR: String(LIMIT) };
      servers.push(await startTestServer(database.db, env), await startTestServer(database.db, env));
    });
    afterAll(async () => {
      for (const server of servers.splice(0)) await server.close();
      redis?.disconnect();
      await database?.drop();
    });

    it('counts one account’s calls to either instance against one hourly limit, with the headers on every call', async () => {
      const [a, b] = servers;
      const campaign = await buildCampaign(a.services);
      const created = await adminRequest(a.baseUrl, 'POST', '/api-accounts', {
        name: 'shared limit',
        campaignIds: [campaign.id],
      });
      expect(created.status).toBeLessThan(300);
      const { accountSid, authToken } = created.body as { accountSid: string; authToken: string };
      // Counters outlive a test run in Redis: start this account's window afresh, whatever its key holds.
      const account = await a.services.stores.apiAccounts.findBySid(accountSid);
      await redis.del(`txedit:calls:impact-api:${account?.id}`, `txedit:calls:impact-api:${accountSid}`);
      const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
      const call = (server: TestServer) =>
        fetch(`${server.baseUrl}/Advertisers/${accountSid}/FTPFileSubmissions`, { headers: { authorization } });

      const seen: Array<[number, string | null]> = [];
      for (let i = 0; i < LIMIT; i++) {
        const response = await call(i % 2 === 0 ? a : b);
        const headers = rateHeaders(response);
        expect(headers.limit).toBe(String(LIMIT));
        expect(headers.reset).toMatch(/^\d+$/);
        seen.push([response.status, headers.remaining]);
      }
      expect(seen).toEqual([
        [200, '4'],
        [200, '3'],
        [200, '2'],
        [200, '1'],
        [200, '0'],
      ]);
      // Past the limit on either instance: 429, still with the headers.
      for (const server of [b, a]) {
        const refused = await call(server);
        expect(refused.status).toBe(429);
        expect(rateHeaders(refused)).toMatchObject({ limit: String(LIMIT), remaining: '0' });
        await refused.text();
      }
      // Nothing is stored past the limit either.
      const put = await fetch(`${b.baseUrl}/Advertisers/${accountSid}/Actions`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'ActionId=1000.1&Amount=1.00',
      });
      expect(put.status).toBe(429);
      const [{ n }] = await a.services.db
        .knex('api_submissions')
        .where({ account_id: account?.id ?? 0 })
        .count({ n: '*' });
      expect(Number(n)).toBe(0);
    });

    it('answers a call with wrong credentials 401, with the headers too', async () => {
      const response = await fetch(`${servers[1].baseUrl}/Advertisers/IRNOBODY/FTPFileSubmissions`, {
        headers: { authorization: `Basic ${Buffer.from('IRNOBODY:wrong').toString('base64')}` },
      });
      expect(response.status).toBe(401);
      expect(rateHeaders(response).limit).toBe(String(LIMIT));
    });
  },
);
