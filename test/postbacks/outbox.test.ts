import { createLogger } from '../../src/logger';
import { createGuardedDispatcher } from '../../src/postbacks/network-guard';
import { PostbackWorker, PostbackWorkerOptions } from '../../src/postbacks/postback-worker';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startReceiver, Receiver } from '../support/receiver';
import { adminRequest, startTestServer, TestServer } from '../support/test-server';

describe.each(testEngines())('postback outbox on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let receiver: Receiver;
  let clock = Date.now();
  const dispatcher = createGuardedDispatcher({ allowPrivateNetworks: true });
  const logger = createLogger('silent');

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    // The server's own worker stays off: tests drive workers by hand with a controlled clock.
    server = await startTestServer(database.db, { POSTBACK_WORKER: 'false' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await dispatcher.close();
    await receiver?.close();
    await server?.close();
    await database?.drop();
  });
  beforeEach(() => {
    // Ahead of the server's real clock, so what the test just queued is due for the hand-driven workers.
    clock = Date.now() + 30_000;
    receiver.received.length = 0;
    receiver.respond((_req, res) => res.end('ok'));
  });

  const worker = (options: Partial<PostbackWorkerOptions> = {}) =>
    new PostbackWorker(server.services.stores.postbacks, dispatcher, logger, {
      retrySchedule: [5, 300],
      timeoutMs: 500,
      concurrency: 8,
      leaseMs: 60_000,
      now: () => clock,
      random: () => 0.5,
      ...options,
    });

  async function sceneWithTemplate(template: string | null) {
    const affiliate = await buildAffiliate(server.services, { postbackUrl: template });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
    });
    await rollUpToNow(server.services);
    return { affiliate, campaign, transaction };
  }

  const edit = (campaign: { password: string | null }, transactionId: number, extra: Record<string, string>) =>
    editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transactionId),
      ...extra,
    });

  it('queues nothing without executeaffiliatepixel, and the history says not requested', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/pb?t=[=_TransID=]`);
    const { answer } = await edit(campaign, transaction.id, { AP: '1.00' });
    expect(answer.succeeded).toBe('True');
    expect(await server.services.stores.postbacks.list({ transactionId: transaction.id })).toEqual([]);
    const [history] = await server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history.postback).toBe('not_requested');
  });

  it('succeeds without queueing when the affiliate has no postback URL, and the history says so', async () => {
    const { campaign, transaction } = await sceneWithTemplate(null);
    const { answer } = await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'Yes' });
    expect(answer.succeeded).toBe('True');
    expect(await server.services.stores.postbacks.list({ transactionId: transaction.id })).toEqual([]);
    const [history] = await server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history.postback).toBe('no_postback_url');
  });

  it('queues nothing when the modification is refused', async () => {
    const { transaction } = await sceneWithTemplate(`${receiver.url}/pb`);
    const { answer } = await edit({ password: 'wrong' }, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    expect(answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
    expect(await server.services.stores.postbacks.list({ transactionId: transaction.id })).toEqual([]);
  });

  it('delivers the rendered URL with the values after the change and a stable X-Postback-Id', async () => {
    const { affiliate, campaign, transaction } = await sceneWithTemplate(
      `${receiver.url}/pb?cid=[=CID=]&afid=[=afid=]&tid=[=_TransID=]&ap=[=AffiliateCommission=]&mp=[=TotalSales=]&ok=[=Approved=]&why=[=REASON=]&pid=[=PostbackID=]&x=[=Nope=]`,
    );
    const { answer } = await edit(campaign, transaction.id, {
      AP: '2.5',
      A: 'no',
      REASON: 'returned & refunded ü',
      executeaffiliatepixel: 'YES',
    });
    expect(answer.succeeded).toBe('True');
    expect(await worker().runOnce()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const seen = receiver.received[0];
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(seen.method).toBe('GET');
    expect(seen.headers['x-postback-id']).toBe(delivery.postbackId);
    const query = new URL(seen.url, receiver.url).searchParams;
    expect(Object.fromEntries(query)).toEqual({
      cid: String(campaign.id),
      afid: String(affiliate.id),
      tid: String(transaction.id),
      ap: '2.50',
      mp: '100.00',
      ok: 'no',
      why: 'returned & refunded ü',
      pid: delivery.postbackId,
      x: '',
    });
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts).toBe(1);
    const [history] = await server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history.postback).toBe('queued');
    expect(delivery.modificationId).toBe(history.id);
  });

  it('retries a 500 on the schedule and delivers once', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/pb?t=[=_TransID=]`);
    await edit(campaign, transaction.id, { AP: '3.00', executeaffiliatepixel: 'yes' });
    receiver.respond((_req, res, index) => {
      res.statusCode = index === 0 ? 500 : 200;
      res.end();
    });
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    let [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toBe('HTTP 500');
    expect(delivery.nextAttemptAt).toBe(clock + 5000); // 5 s, jitter centred by random() = 0.5
    expect(await w.runOnce()).toBe(0); // not due yet
    clock += 5000;
    expect(await w.runOnce()).toBe(1);
    [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('delivered');
    expect(receiver.received).toHaveLength(2);
    const attempts = await server.services.stores.postbacks.attemptsFor([delivery.id]);
    expect(attempts.map((a) => [a.attempt, a.httpStatus])).toEqual([
      [1, 500],
      [2, 200],
    ]);
  });

  it('times out a hanging receiver, retries, and marks the delivery failed when the schedule is exhausted', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/hang`);
    await edit(campaign, transaction.id, { MP: '1.00', executeaffiliatepixel: 'yes' });
    receiver.respond(() => undefined); // never answers
    const w = worker({ retrySchedule: [1], timeoutMs: 200 });
    await w.runOnce();
    let [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toMatch(/^timeout after 200 ms/);
    clock += 1000;
    await w.runOnce();
    [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(2);
  });

  it('records a closed port as a connection error', async () => {
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    const { campaign, transaction } = await sceneWithTemplate(`${url}/pb`);
    await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    await worker().runOnce();
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('pending');
    expect(delivery.lastError).toMatch(/ECONNREFUSED/);
  });

  it('does not follow a redirect', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/moved`);
    await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    receiver.respond((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `${receiver.url}/target` });
        res.end();
      } else res.end('ok');
    });
    await worker().runOnce();
    expect(receiver.received.map((r) => r.url)).toEqual(['/moved']);
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.lastError).toBe('redirect not followed (302)');
  });

  it.each([['127.0.0.1'], ['localhost'], ['[::1]'], ['10.1.2.3'], ['169.254.169.254']])(
    'refuses %s when private networks are not allowed, failing at once with the reason',
    async (host) => {
      const guarded = createGuardedDispatcher({ allowPrivateNetworks: false });
      try {
        const { campaign, transaction } = await sceneWithTemplate(`http://${host}:${receiver.port}/pb`);
        await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
        await new PostbackWorker(server.services.stores.postbacks, guarded, logger, {
          retrySchedule: [5],
          timeoutMs: 500,
          concurrency: 4,
          leaseMs: 60_000,
          now: () => clock,
        }).runOnce();
        const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
        expect(delivery.status).toBe('failed');
        expect(delivery.lastError).toMatch(/^private network address refused:/);
        expect(receiver.received).toHaveLength(0);
      } finally {
        await guarded.close();
      }
    },
  );

  it('takes over the lease of a worker that died mid-delivery', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/pb`);
    await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    // The first worker claims and dies before recording anything.
    const claimed = await server.services.stores.postbacks.claimDue('dead-worker', clock, 60_000, 10);
    expect(claimed.map((d) => d.transactionId)).toContain(transaction.id);
    const w = worker();
    expect(await w.runOnce()).toBe(0); // leased to the dead worker
    clock += 60_001;
    expect(await w.runOnce()).toBeGreaterThanOrEqual(1);
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('delivered');
  });

  it('never lets two workers deliver one row in the same attempt slot', async () => {
    const scenes = [];
    for (let i = 0; i < 12; i++) scenes.push(await sceneWithTemplate(`${receiver.url}/pb?pid=[=PostbackID=]`));
    for (const { campaign, transaction } of scenes)
      await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    receiver.received.length = 0;
    const [a, b] = [worker({ concurrency: 5 }), worker({ concurrency: 5 })];
    while ((await Promise.all([a.runOnce(), b.runOnce()])).some((n) => n > 0));
    const ids = receiver.received.map((r) => r.headers['x-postback-id']);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
  });

  it('lists deliveries with attempts and re-queues a failed one through the admin API', async () => {
    const { campaign, transaction } = await sceneWithTemplate(`${receiver.url}/pb`);
    await edit(campaign, transaction.id, { AP: '1.00', executeaffiliatepixel: 'yes' });
    receiver.respond((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const w = worker({ retrySchedule: [] });
    await w.runOnce();
    const listed = await adminRequest(
      server.baseUrl,
      'GET',
      `/postbacks?transactionId=${transaction.id}&status=failed`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({
      transactionId: transaction.id,
      status: 'failed',
      attemptCount: 1,
      lastError: 'HTTP 503',
    });
    expect(listed.body[0].attempts).toEqual([
      expect.objectContaining({ attempt: 1, httpStatus: 503, error: 'HTTP 503' }),
    ]);

    const retried = await adminRequest(server.baseUrl, 'POST', `/postbacks/${listed.body[0].id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('pending');
    const again = await adminRequest(server.baseUrl, 'POST', `/postbacks/${listed.body[0].id}/retry`);
    expect(again.status).toBe(409);
    receiver.respond((_req, res) => res.end('ok'));
    await w.runOnce();
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('delivered');
    expect((await adminRequest(server.baseUrl, 'POST', '/postbacks/999999999/retry')).status).toBe(404);
    expect((await adminRequest(server.baseUrl, 'GET', '/postbacks?status=bogus')).status).toBe(400);
  });

  it('refuses postback URL templates that are not absolute http(s) URLs or carry credentials', async () => {
    for (const postbackUrl of ['ftp://example.com/x', '/relative', 'https://user:pw@example.com/x']) {
      const { status, body } = await adminRequest(server.baseUrl, 'POST', '/affiliates', { name: 'A', postbackUrl });
      expect(status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
    }
    const ok = await adminRequest(server.baseUrl, 'POST', '/affiliates', {
      name: 'A',
      postbackUrl: 'https://example.com/pb?c=[=CID=]',
    });
    expect(ok.status).toBe(201);
  });
});
