import { testEngines } from '../support/databases';
import { buildAffiliate, buildScene, buildTransaction, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { duringNightly, expectUntouched } from '../linktrust/edit-request';

// Event type ids of their own: these tests share a database with other files' event types.
let nextEventTypeId = 1_950_000_000 + (process.pid % 1000) * 1000;

describe.each(testEngines())('amending a transaction by hand through the admin API on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = async (method: string, path: string, body?: unknown) => {
    const { status, body: answer } = await adminRequest(context.server.baseUrl, method, path, body);
    return { status, body: answer };
  };
  const amend = (id: number, body: Record<string, unknown>) => api('POST', `/transactions/${id}/modifications`, body);

  it('applies the values through the core, source admin and who in the history, exact money, statistics moved', async () => {
    // Closed to merchants, with a password and a white-list: none of it applies to a signed-in admin.
    const { transaction } = await buildScene(services(), { allowExternalModification: false, whitelistOnly: true });
    await rollUpToNow(services());
    const answer = await amend(transaction.id, {
      affiliatePayout: '0.1000',
      merchantRevenue: '1234567.8901',
      approved: false,
      reason: 'order 1182 was returned',
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      id: transaction.id,
      affiliatePayout: '0.10',
      merchantRevenue: '1234567.8901',
      approved: false,
      modification: {
        source: 'admin',
        actor: 'admin API',
        reason: 'order 1182 was returned',
        postback: 'not_requested',
        before: { affiliatePayout: '10.00', approved: true },
        after: { affiliatePayout: '0.10', merchantRevenue: '1234567.8901', approved: false },
      },
    });
    const read = await api('GET', `/transactions/${transaction.id}`);
    expect(read.body.modifications).toEqual([answer.body.modification]);
    const stored = await services().stores.transactions.getById(transaction.id);
    expect([stored?.affiliatePayout, stored?.merchantRevenue, stored?.approved]).toEqual([1000n, 12345678901n, false]);
  });

  it('refuses during nightly processing and before the hour is rolled up, in LinkTrust’s words, writing nothing', async () => {
    const { campaign, affiliate } = await buildScene(services());
    await rollUpToNow(services());
    // This hour's: not rolled up until the hour is over.
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: Date.now() });
    const notRolledUp = await amend(transaction.id, { affiliatePayout: '2.00', reason: 'early' });
    expect(notRolledUp).toEqual({
      status: 409,
      body: { error: { code: 'hourly_pending', message: 'Temporary failure: Hourly processing not completed' } },
    });
    const old = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const nightly = await duringNightly(services(), () => amend(old.id, { affiliatePayout: '2.00', reason: 'x' }));
    expect(nightly).toEqual({
      status: 409,
      body: { error: { code: 'nightly_in_progress', message: 'Temporary failure: Nightly processing in progress' } },
    });
    await expectUntouched(services(), transaction);
    await expectUntouched(services(), old);
  });

  it.each([
    ['no reason', { affiliatePayout: '1.00' }, 'reason'],
    ['a blank reason', { affiliatePayout: '1.00', reason: '   ' }, 'reason'],
    ['no change', { reason: 'nothing' }, 'give affiliatePayout, merchantRevenue or approved'],
    ['five fraction digits', { affiliatePayout: '1.00001', reason: 'x' }, 'affiliatePayout'],
    ['a negative amount', { merchantRevenue: '-1', reason: 'x' }, 'merchantRevenue'],
    ['a float', { affiliatePayout: 1.5, reason: 'x' }, 'affiliatePayout'],
    ['an unknown field', { affiliatePayout: '1.00', reason: 'x', password: 'secret' }, 'password'],
    ['impact fields on a plain transaction', { amount: '5.00', reason: 'x' }, 'not an impact.com action'],
  ])('answers 400 for %s, writing nothing', async (_what, body, mentions) => {
    const { transaction } = await buildScene(services());
    await rollUpToNow(services());
    const answer = await amend(transaction.id, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.message).toContain(mentions);
    await expectUntouched(services(), transaction);
  });

  it('answers 404 for a transaction that does not exist, and for a malformed id', async () => {
    expect((await amend(987_654_321, { affiliatePayout: '1.00', reason: 'x' })).status).toBe(404);
    expect(
      (await api('POST', '/transactions/abc/modifications', { affiliatePayout: '1.00', reason: 'x' })).status,
    ).toBe(400);
  });

  it('queues the affiliate postback when asked, and only then', async () => {
    const { campaign } = await buildScene(services());
    const affiliate = await buildAffiliate(services(), { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
    const transaction = await buildTransaction(services(), campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const quiet = await amend(transaction.id, { affiliatePayout: '3.00', reason: 'no postback' });
    expect(quiet.body.modification.postback).toBe('not_requested');
    const loud = await amend(transaction.id, {
      affiliatePayout: '4.00',
      reason: 'tell them',
      executeAffiliatePixel: true,
    });
    expect(loud.body.modification.postback).toBe('queued');
    const queued = await services().stores.postbacks.list({ transactionId: transaction.id });
    expect(queued.map((delivery) => [delivery.modificationId, delivery.url])).toEqual([
      [loud.body.modification.id, `http://127.0.0.1:9/pb?t=${transaction.id}`],
    ]);
  });

  describe('an impact.com action', () => {
    async function actionScene() {
      const { campaign } = await buildScene(services(), { uniqueMerchantReference: false });
      const affiliate = await buildAffiliate(services());
      const eventType = await api('POST', '/event-types', {
        id: nextEventTypeId++,
        campaignId: campaign.id,
        name: 'Online sale',
        payout: { type: 'percent', value: '10' },
        dispositionCodes: [{ code: 'CHARGEBACK', effect: 'reverse' }],
      });
      expect(eventType.status).toBe(201);
      const created = await api('POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '100.00',
        affiliatePayout: '10.00',
        approved: false,
        occurredAt: new Date(twoDaysAgo()).toISOString(),
      });
      expect(created.status).toBe(201);
      await rollUpToNow(services());
      return created.body as { id: number; actionId: string };
    }

    it('follows impact’s rules: a new amount recalculates the payout, a reversing code reverses, and then impact’s code refuses', async () => {
      const action = await actionScene();
      const amended = await amend(action.id, { amount: '80.00', reason: 'partial return' });
      expect([amended.status, amended.body.error]).toEqual([201, undefined]);
      expect(amended.body).toMatchObject({ merchantRevenue: '80.00', affiliatePayout: '8.00' });
      expect(amended.body.modification).toMatchObject({
        source: 'admin',
        actor: 'admin API',
        reason: 'partial return',
      });
      const reversed = await amend(action.id, { dispositionCode: 'CHARGEBACK', reason: 'chargeback' });
      expect(reversed.status).toBe(201);
      expect(reversed.body.state).toBe('REVERSED');
      const again = await amend(action.id, { amount: '70.00', reason: 'too late' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('ALREADY_REVERSED');
    });

    it('refuses LinkTrust’s fields on an action, and an unknown disposition code with impact’s code', async () => {
      const action = await actionScene();
      const values = await amend(action.id, { affiliatePayout: '1.00', reason: 'x' });
      expect(values.status).toBe(400);
      expect(values.body.error.message).toContain('impact.com action');
      const unknown = await amend(action.id, { dispositionCode: 'NO_SUCH_CODE', reason: 'x' });
      expect(unknown.status).toBe(409);
      expect(unknown.body.error.code).toBe('BAD_DISPOSITION');
    });
  });
});
