import { testEngines } from '../support/databases';
import {
  buildAffiliate,
  buildCampaign,
  buildTransaction,
  freshId,
  rollUpToNow,
  twoDaysAgo,
} from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { consoleClient, type ConsoleClient } from '../console/console-client';
import { drainBatches } from '../batch/batch-helpers';
import { twoMerchants } from './merchant-scene';

let nextEventTypeId = 1_970_000_000 + (process.pid % 1000) * 1000;

describe.each(testEngines())('a merchant’s files and batches on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  /** Uploads a file through the console's form, as the person's browser would. */
  async function upload(client: ConsoleClient, filename: string, text: string) {
    const form = new FormData();
    form.append('_csrf', client.csrf);
    form.append('file', new Blob([text], { type: 'text/csv' }), filename);
    const answer = await fetch(`${context.server.baseUrl}/admin/batches`, {
      method: 'POST',
      headers: { cookie: client.cookie },
      body: form,
      redirect: 'manual',
    });
    expect(answer.status).toBe(303);
    const id = Number(/#batch-(\d+)$/.exec(answer.headers.get('location') ?? '')?.[1]);
    expect(id).toBeGreaterThan(0);
    return id;
  }

  /** A batch's row results, all pages. */
  async function resultsOf(id: number) {
    const all = [];
    for await (const page of services().batches.results(id)) all.push(...page);
    return all;
  }

  /** An impact.com action of `campaignId` (sale 100.00, payout 10 %). */
  async function actionOf(campaignId: number) {
    const eventType = await api('POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
    });
    const created = await api('POST', '/transactions', {
      campaignId,
      affiliateId: (await buildAffiliate(services())).id,
      actionId: `3000.${freshId()}`,
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

  it('applies its own rows only: another merchant’s transaction answers exactly as a missing one', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    // Acme gets a second campaign after the upload, before its rows run: it counts.
    const second = await buildCampaign(services());
    const secondTransaction = await buildTransaction(services(), second, await buildAffiliate(services()), {
      occurredAt: twoDaysAgo(),
    });
    await rollUpToNow(services());
    // The fourth row names Globex's campaign outright (by merchant reference and CID).
    const file = [
      'Password,TransactionID,Merchantreferenceid,CID,AP,A',
      `${acme.campaign.password},${acme.transaction.id},,,7.00,yes`,
      `${globex.campaign.password},${globex.transaction.id},,,7.00,yes`,
      `${globex.campaign.password},987654321,,,7.00,yes`,
      `${globex.campaign.password},,${globex.transaction.merchantReferenceId},${globex.campaign.id},7.00,yes`,
      `${second.password},${secondTransaction.id},,,7.00,yes`,
    ].join('\r\n');
    const id = await upload(acme.client, 'refunds.csv', `${file}\r\n`);
    expect(
      (await api('PATCH', `/merchants/${acme.merchant.id}`, { campaignIds: [acme.campaign.id, second.id] })).status,
    ).toBe(200);
    const stored = await services().batches.get(id);
    expect(stored).toMatchObject({ merchantId: acme.merchant.id, channel: 'console' });
    await drainBatches(services());
    const results = await resultsOf(id);
    expect(results.map((r) => [r.rowNumber, r.succeeded, r.message])).toEqual([
      [1, true, expect.any(String)],
      [2, false, 'Permanent failure: Invalid transaction specified'],
      [3, false, 'Permanent failure: Invalid transaction specified'],
      [4, false, 'Permanent failure: Invalid transaction specified'],
      [5, true, expect.any(String)],
    ]);
    expect((await services().stores.transactions.getById(acme.transaction.id))?.affiliatePayout).toBe(70_000n);
    expect(await services().stores.modifications.listForTransaction(globex.transaction.id)).toEqual([]);
  });

  it('applies its own impact.com rows only; another merchant’s action is ACTION_NOT_FOUND like a missing one', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    const own = await actionOf(acme.campaign.id);
    const theirs = await actionOf(globex.campaign.id);
    const file = [
      'ActionId,Amount,Reason',
      `${own.actionId},80.00,ORDER_UPDATE`,
      `${theirs.actionId},80.00,ORDER_UPDATE`,
      `9999.${freshId()},80.00,ORDER_UPDATE`,
    ].join('\r\n');
    const id = await upload(acme.client, 'Batch_Mods.csv', `${file}\r\n`);
    await drainBatches(services());
    const results = await resultsOf(id);
    expect(results.map((r) => [r.rowNumber, r.succeeded, r.code ?? null])).toEqual([
      [1, true, expect.any(String)],
      [2, false, 'ACTION_NOT_FOUND'],
      [3, false, 'ACTION_NOT_FOUND'],
    ]);
    expect((await services().stores.transactions.getById(own.id))?.merchantRevenue).toBe(800_000n);
    expect((await services().stores.transactions.getById(theirs.id))?.merchantRevenue).toBe(1_000_000n);
  });

  it('lists, shows and serves the results of its batches only; another’s batch answers as a missing one', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    const file = `Password,TransactionID,AP\r\n${acme.campaign.password},${acme.transaction.id},2.00\r\n`;
    const mine = await upload(acme.client, 'mine.csv', file);
    const theirs = await upload(
      globex.client,
      'theirs.csv',
      file.replace(String(acme.transaction.id), String(globex.transaction.id)),
    );
    // The network's own upload (through the admin API) is not a merchant's either.
    const admin = await consoleClient(context.server.baseUrl);
    await drainBatches(services());

    const list = await acme.client.get('/admin/batches');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/admin/batches/${mine}"`);
    expect(list.body).not.toContain(`/admin/batches/${theirs}"`);
    expect((await acme.client.get('/admin/batches/table')).body).not.toContain(`batch-${theirs}"`);
    expect((await acme.client.get(`/admin/batches/${mine}`)).status).toBe(200);
    const results = await acme.client.get(`/admin/batches/${mine}/results`);
    expect(results.status).toBe(200);
    expect(results.headers.get('content-type')).toMatch(/^text\/csv/);
    for (const path of [`/admin/batches/${theirs}`, `/admin/batches/${theirs}/results`]) {
      const foreign = await acme.client.get(path);
      const missing = await acme.client.get(path.replace(String(theirs), '987654321'));
      expect([path, foreign.status, missing.status]).toEqual([path, 404, 404]);
      expect(foreign.body).toBe(missing.body);
    }
    // The network sees both.
    const all = (await admin.get('/admin/batches')).body;
    for (const id of [mine, theirs]) expect(all).toContain(`href="/admin/batches/${id}"`);

    // The same bytes from two merchants are two files, neither a duplicate of the other's.
    const twice = await upload(globex.client, 'again.csv', file);
    expect((await services().batches.get(twice))?.duplicateOf).toBeNull();
  });
});
