import { hourStart } from '../../src/core/hours';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { editByGet, editByPost } from '../support/linktrust-xml';
import { adminRequest, useTestServer } from '../support/test-server';
import { statisticsTotalsOf } from '../support/written-state';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// The largest transaction id: no test creates it, so it is never found.
const NEVER_CREATED = Number.MAX_SAFE_INTEGER;

describe.each(testEngines())('admin API: transactions on %s', (engine) => {
  const context = useTestServer(engine);

  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  async function owners(campaignFields: Parameters<typeof buildCampaign>[1] = {}) {
    return {
      campaign: await buildCampaign(context.server.services, campaignFields),
      affiliate: await buildAffiliate(context.server.services),
    };
  }

  /** The stored money columns as bigint ten-thousandths. */
  async function storedMoney(id: number) {
    const row = await context.database.db
      .knex('transactions')
      .where({ id })
      .first('affiliate_payout', 'merchant_revenue');
    return [BigInt(row.affiliate_payout), BigInt(row.merchant_revenue)];
  }

  it('creates a transaction with a generated click id and defaults, amounts as decimal strings', async () => {
    const { campaign, affiliate } = await owners();
    const created = await admin('POST', '/transactions', {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      affiliatePayout: '12.5',
      merchantRevenue: '100',
    });
    expect([created.status, created.body]).toEqual([
      201,
      {
        id: expect.any(Number),
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        clickId: expect.stringMatching(/^[0-9a-f]{32}$/),
        merchantReferenceId: null,
        subId: null,
        affiliateReferenceId: null,
        affiliatePayout: '12.50',
        merchantRevenue: '100.00',
        approved: true,
        occurredAt: expect.stringMatching(ISO),
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
        // impact.com's view of it: its id in decimal, no event type, open for the default 30 days.
        actionId: String(created.body.id),
        eventTypeId: null,
        state: 'PENDING',
        lockingDate: new Date(Date.parse(created.body.occurredAt) + 30 * 86_400_000).toISOString(),
        items: null,
        customerStatus: null,
        modificationCount: 0,
      },
    ]);
    expect(await storedMoney(created.body.id)).toEqual([125_000n, 1_000_000n]);
  });

  it('keeps every field supplied on creation, ids included, with exact amounts', async () => {
    const { campaign, affiliate } = await owners();
    const id = 5_000_000_000 + freshId(); // past 32 bits: a BIGINT id
    const body = {
      id,
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      clickId: `click-${id}`,
      merchantReferenceId: `ORDER-${id}`,
      subId: 'sub-1',
      affiliateReferenceId: 'aff-ref',
      affiliatePayout: '0.1',
      merchantRevenue: '99999999.9999',
      approved: false,
      occurredAt: '2026-01-02T03:04:05.678Z',
    };
    const created = await admin('POST', '/transactions', body);
    const expected = {
      ...body,
      affiliatePayout: '0.10',
      merchantRevenue: '99999999.9999',
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      actionId: String(id),
      eventTypeId: null,
      // Past its locking date (30 days after it occurred): approved, as impact.com shows it.
      state: 'APPROVED',
      lockingDate: '2026-02-01T03:04:05.678Z',
      items: null,
      customerStatus: null,
      modificationCount: 0,
    };
    expect([created.status, created.body]).toEqual([201, expected]);
    expect(await storedMoney(id)).toEqual([1000n, 999_999_999_999n]);
    expect(await admin('GET', `/transactions/${id}`)).toMatchObject({
      status: 200,
      body: { ...created.body, modifications: [] },
    });
  });

  it('refuses a duplicate id or click id with 409', async () => {
    const { campaign, affiliate } = await owners();
    const base = { campaignId: campaign.id, affiliateId: affiliate.id, affiliatePayout: '1', merchantRevenue: '2' };
    const { body: first } = await admin('POST', '/transactions', { ...base, clickId: `dup-${freshId()}` });
    expect(await admin('POST', '/transactions', { ...base, id: first.id })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: `transaction ${first.id} already exists` } },
    });
    expect(await admin('POST', '/transactions', { ...base, clickId: first.clickId })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: 'a transaction with this id or click id already exists' } },
    });
  });

  it('refuses a second transaction with the same merchant reference on an enforcing campaign (409), not elsewhere', async () => {
    const enforcing = await owners({ uniqueMerchantReference: true });
    const relaxed = await owners({ uniqueMerchantReference: false });
    const reference = `ORDER-${freshId()}`;
    const body = (o: typeof enforcing) => ({
      campaignId: o.campaign.id,
      affiliateId: o.affiliate.id,
      merchantReferenceId: reference,
      affiliatePayout: '1',
      merchantRevenue: '2',
    });
    expect((await admin('POST', '/transactions', body(enforcing))).status).toBe(201);
    expect(await admin('POST', '/transactions', body(enforcing))).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'conflict',
          message: `merchant reference id "${reference}" already exists on campaign ${enforcing.campaign.id}`,
        },
      },
    });
    expect((await admin('POST', '/transactions', body(relaxed))).status).toBe(201);
    expect((await admin('POST', '/transactions', body(relaxed))).status).toBe(201);
  });

  it('treats click ids and merchant references that differ only in case as different', async () => {
    const { campaign, affiliate } = await owners({ uniqueMerchantReference: true });
    const base = { campaignId: campaign.id, affiliateId: affiliate.id, affiliatePayout: '1', merchantRevenue: '2' };
    const suffix = freshId();
    expect(
      (
        await admin('POST', '/transactions', {
          ...base,
          clickId: `abc-${suffix}`,
          merchantReferenceId: `ref-${suffix}`,
        })
      ).status,
    ).toBe(201);
    const upper = await admin('POST', '/transactions', {
      ...base,
      clickId: `ABC-${suffix}`,
      merchantReferenceId: `REF-${suffix}`,
    });
    expect([upper.status, upper.body.clickId, upper.body.merchantReferenceId]).toEqual([
      201,
      `ABC-${suffix}`,
      `REF-${suffix}`,
    ]);
  });

  it.each([
    [{ affiliatePayout: '-1' }, 'affiliatePayout'],
    [{ affiliatePayout: '12.34567' }, 'affiliatePayout'],
    [{ affiliatePayout: 12.5 }, 'affiliatePayout'],
    [{ merchantRevenue: '1e3' }, 'merchantRevenue'],
    [{ merchantRevenue: '1,000' }, 'merchantRevenue'],
    [{ campaignId: undefined }, 'campaignId'],
    [{ affiliateId: '1' }, 'affiliateId'],
    [{ occurredAt: 'yesterday' }, 'occurredAt'],
    [{ clickId: '' }, 'clickId'],
    [{ id: 0 }, 'id'],
    [{ approved: 'yes' }, 'approved'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %j with 400 naming %s', async (change, field) => {
    const { campaign, affiliate } = await owners();
    const body = {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      affiliatePayout: '1',
      merchantRevenue: '2',
      ...change,
    };
    expect(await admin('POST', '/transactions', body)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: expect.stringContaining(field) } },
    });
  });

  it('refuses a campaign or an affiliate that does not exist with 400', async () => {
    const { campaign, affiliate } = await owners();
    const base = { campaignId: campaign.id, affiliateId: affiliate.id, affiliatePayout: '1', merchantRevenue: '2' };
    expect(await admin('POST', '/transactions', { ...base, campaignId: 4_294_967_295 })).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'campaign 4294967295 does not exist' } },
    });
    expect(await admin('POST', '/transactions', { ...base, affiliateId: 4_294_967_295 })).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'affiliate 4294967295 does not exist' } },
    });
  });

  it('lists the modifications of a transaction oldest first, each with its identifier, client IP, reason and values', async () => {
    const { campaign, affiliate } = await owners();
    const { body: transaction } = await admin('POST', '/transactions', {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      merchantReferenceId: `ORDER-${freshId()}`,
      affiliatePayout: '10',
      merchantRevenue: '100',
      occurredAt: new Date(twoDaysAgo()).toISOString(),
    });
    await rollUpToNow(context.server.services);
    const first = await editByGet(context.server.baseUrl, {
      Password: campaign.password as string,
      Transactionid: String(transaction.id),
      AP: '7.5',
      REASON: 'first',
    });
    const second = await editByPost(context.server.baseUrl, {
      Password: campaign.password as string,
      Merchantreferenceid: transaction.merchantReferenceId,
      CID: String(campaign.id),
      A: 'no',
    });
    expect([first.answer.succeeded, second.answer.succeeded]).toEqual(['True', 'True']);

    const read = await admin('GET', `/transactions/${transaction.id}`);
    const history = await context.server.services.stores.modifications.listForTransaction(transaction.id);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      ...transaction,
      affiliatePayout: '7.50',
      approved: false,
      modificationCount: 2,
      updatedAt: new Date(history[1].createdAt).toISOString(),
      modifications: [
        {
          id: history[0].id,
          at: new Date(history[0].createdAt).toISOString(),
          identifier: 'transaction_id',
          source: 'api',
          clientIp: '127.0.0.1',
          requestId: history[0].requestId,
          reason: 'first',
          actor: null,
          postback: 'not_requested',
          before: { affiliatePayout: '10.00', merchantRevenue: '100.00', approved: true },
          after: { affiliatePayout: '7.50', merchantRevenue: '100.00', approved: true },
        },
        {
          id: history[1].id,
          at: new Date(history[1].createdAt).toISOString(),
          identifier: 'merchant_reference',
          source: 'api',
          clientIp: '127.0.0.1',
          requestId: history[1].requestId,
          reason: null,
          actor: null,
          postback: 'not_requested',
          before: { affiliatePayout: '7.50', merchantRevenue: '100.00', approved: true },
          after: { affiliatePayout: '7.50', merchantRevenue: '100.00', approved: false },
        },
      ],
    });
    expect(history[0].id).toBeLessThan(history[1].id);
  });

  it('answers 404 for an unknown transaction and 400 for an id that is not one', async () => {
    expect(await admin('GET', `/transactions/${NEVER_CREATED}`)).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: `transaction ${NEVER_CREATED} not found` } },
    });
    expect(await admin('GET', '/transactions/12abc')).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'id must be a positive integer' } },
    });
  });

  it('shows an action past its locking date as APPROVED in a lookup as on its own', async () => {
    const { campaign, affiliate } = await owners();
    const created = await admin('POST', '/transactions', {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      affiliatePayout: '1.00',
      merchantRevenue: '10.00',
      occurredAt: '2020-01-01T00:00:00Z',
    });
    expect(created.status).toBe(201);
    expect((await admin('GET', `/transactions/${created.body.id}`)).body.state).toBe('APPROVED');
    // The list once read each row's index as "now", showing such an action as still PENDING.
    const found = await admin('GET', `/transactions?clickId=${created.body.clickId}`);
    expect(found.body.map((t: { state: string }) => t.state)).toEqual(['APPROVED']);
  });

  it('looks transactions up by click id, and by merchant reference with campaign, always as a JSON array', async () => {
    const { campaign, affiliate } = await owners({ uniqueMerchantReference: false });
    const reference = `SHARED-${freshId()}`;
    const base = {
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      merchantReferenceId: reference,
      affiliatePayout: '1',
      merchantRevenue: '2',
    };
    const { body: one } = await admin('POST', '/transactions', base);
    const { body: two } = await admin('POST', '/transactions', base);

    expect(await admin('GET', `/transactions?clickId=${encodeURIComponent(one.clickId)}`)).toMatchObject({
      status: 200,
      body: [one],
    });
    expect(await admin('GET', '/transactions?clickId=no-such-click')).toMatchObject({ status: 200, body: [] });
    expect(
      await admin('GET', `/transactions?merchantReferenceId=${reference}&campaignId=${campaign.id}`),
    ).toMatchObject({ status: 200, body: [one, two] });
    const other = await buildCampaign(context.server.services);
    expect(await admin('GET', `/transactions?merchantReferenceId=${reference}&campaignId=${other.id}`)).toMatchObject({
      status: 200,
      body: [],
    });
  });

  it.each([
    ['/transactions', 'give clickId, or merchantReferenceId and campaignId'],
    ['/transactions?merchantReferenceId=x', 'give clickId, or merchantReferenceId and campaignId'],
    ['/transactions?merchantReferenceId=x&campaignId=abc', 'campaignId must be a positive integer'],
  ])('refuses the lookup %s with 400', async (path, message) => {
    expect(await admin('GET', path)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message } },
    });
  });

  describe('statistics', () => {
    const statisticsRows = async (campaignId: number) =>
      (
        await context.database.db.knex('hourly_statistics').where({ campaign_id: campaignId }).orderBy('hour_start')
      ).map((row: Record<string, number | string>) => ({
        hourStart: Number(row.hour_start),
        ...statisticsTotalsOf(row),
      }));

    it("adds a late transaction for an hour already rolled up to that hour's statistics, once", async () => {
      const { campaign, affiliate } = await owners();
      await rollUpToNow(context.server.services);
      const occurredAt = twoDaysAgo();
      const base = {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        occurredAt: new Date(occurredAt).toISOString(),
      };
      expect(
        (await admin('POST', '/transactions', { ...base, affiliatePayout: '12.50', merchantRevenue: '100' })).status,
      ).toBe(201);
      expect(
        (
          await admin('POST', '/transactions', {
            ...base,
            affiliatePayout: '0.0001',
            merchantRevenue: '3',
            approved: false,
          })
        ).status,
      ).toBe(201);
      const expected = [
        {
          hourStart: hourStart(occurredAt),
          transactions: 2,
          approvedTransactions: 1,
          affiliatePayout: 125_001n,
          merchantRevenue: 1_030_000n,
          approvedAffiliatePayout: 125_000n,
          approvedMerchantRevenue: 1_000_000n,
        },
      ];
      expect(await statisticsRows(campaign.id)).toEqual(expected);
      await rollUpToNow(context.server.services);
      expect(await statisticsRows(campaign.id)).toEqual(expected);
    });

    it('leaves a transaction of an hour not rolled up yet to the roll-up', async () => {
      const { campaign, affiliate } = await owners();
      await rollUpToNow(context.server.services);
      const created = await admin('POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        affiliatePayout: '1',
        merchantRevenue: '2',
      });
      expect(created.status).toBe(201);
      expect(await statisticsRows(campaign.id)).toEqual([]);
    });
  });
});
