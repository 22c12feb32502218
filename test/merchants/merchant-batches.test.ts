import { parseResultsCsv } from '../../src/batch/results-csv';
import { parseImpactResultsCsv } from '../../src/impact/impact-results-csv';
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
import { csvFile, drainBatches } from '../batch/batch-helpers';
import { twoMerchants as twoMerchantsScene } from './merchant-scene';
import { rollUpIncluding } from '../faults/fault-helpers';

// Event type ids of their own: these tests share a database with the event-type tests of other files.
let nextEventTypeId = 1_910_000_000 + (process.pid % 1000) * 1000;

/** Uploads a file through the console's form, as the browser would; the answer's status and location. */
async function uploadThroughConsole(baseUrl: string, client: ConsoleClient, filename: string, text: string) {
  const form = new FormData();
  form.append('_csrf', client.csrf);
  form.append('file', new Blob([text], { type: 'text/csv' }), filename);
  const answer = await fetch(`${baseUrl}/admin/batches`, {
    method: 'POST',
    headers: { cookie: client.cookie },
    body: form,
    redirect: 'manual',
  });
  const location = answer.headers.get('location') ?? '';
  return { status: answer.status, batchId: Number(/#batch-([0-9]+)$/.exec(location)?.[1]) };
}

describe.each(testEngines())("a merchant's batches on %s", (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  /** Two merchants, each with a campaign holding a LinkTrust transaction and an impact.com action, and a signed-in user. */
  async function twoMerchants() {
    const scene = await twoMerchantsScene(context.server.baseUrl, services());
    const withActions = [];
    for (const merchant of scene) {
      const { campaign, transaction } = merchant;
      const eventType = await api('POST', '/event-types', {
        id: nextEventTypeId++,
        campaignId: campaign.id,
        name: 'Online sale',
        payout: { type: 'percent', value: '10' },
      });
      expect(eventType.status).toBe(201);
      const action = await api('POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: transaction.affiliateId,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '100.00',
        affiliatePayout: '10.00',
        approved: false,
        occurredAt: new Date(transaction.occurredAt).toISOString(),
      });
      expect(action.status).toBe(201);
      withActions.push({ ...merchant, action: action.body as { id: number; actionId: string } });
    }
    // The actions joined hours the scene had rolled up: roll them up again, counting them.
    await rollUpIncluding(services(), scene[0].transaction.occurredAt);
    return withActions;
  }

  it("applies a merchant's Lead Poster rows to its own transactions only; others answer as missing ones", async () => {
    const [acme, globex] = await twoMerchants();
    const affiliate = await buildAffiliate(services());
    // A campaign nobody owns yet, given to Acme after the upload and before the rows run: it counts.
    const later = await buildCampaign(services(), { allowExternalModification: true });
    const laterTransaction = await buildTransaction(services(), later, affiliate, { occurredAt: twoDaysAgo() });
    const nobodys = await buildCampaign(services(), { allowExternalModification: true });
    const nobodysTransaction = await buildTransaction(services(), nobodys, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(services());
    const file = csvFile([
      ['Password', 'TransactionID', 'AP', 'MP', 'A'],
      [acme.campaign.password ?? '', String(acme.transaction.id), '3.00', '30.00', 'yes'],
      [globex.campaign.password ?? '', String(globex.transaction.id), '3.00', '30.00', 'yes'],
      [acme.campaign.password ?? '', String(globex.transaction.id), '3.00', '30.00', 'yes'],
      [nobodys.password ?? '', String(nobodysTransaction.id), '3.00', '30.00', 'yes'],
      [acme.campaign.password ?? '', '1999999999', '3.00', '30.00', 'yes'],
      [later.password ?? '', String(laterTransaction.id), '4.00', '40.00', 'yes'],
    ]);
    const uploaded = await uploadThroughConsole(context.server.baseUrl, acme.client, 'mods.csv', file);
    expect(uploaded.status).toBe(303);
    expect(await services().batches.get(uploaded.batchId)).toMatchObject({
      merchantId: acme.merchant.id,
      channel: 'console',
      records: 6,
    });
    const given = await api('PATCH', `/merchants/${acme.merchant.id}`, {
      campaignIds: [acme.campaign.id, later.id],
    });
    expect(given.status).toBe(200);
    await drainBatches(services());

    const csv = await acme.client.get(`/admin/batches/${uploaded.batchId}/results`);
    expect(csv.status).toBe(200);
    const results = parseResultsCsv(csv.body);
    const missing = 'Permanent failure: Invalid transaction specified';
    expect(results.map((r) => [r.rowNumber, r.succeeded, r.message])).toEqual([
      [1, true, 'Succeeded'],
      [2, false, missing],
      [3, false, missing],
      [4, false, missing],
      [5, false, missing],
      [6, true, 'Succeeded'],
    ]);
    const untouched = await services().stores.transactions.getById(globex.transaction.id);
    expect(untouched?.modificationCount).toBe(0);
    expect((await services().stores.transactions.getById(laterTransaction.id))?.modificationCount).toBe(1);
  });

  it("applies a merchant's impact.com rows to its own actions only; others answer impact's not-found code", async () => {
    const [acme, globex] = await twoMerchants();
    const file = csvFile([
      ['ActionId', 'ActionTrackerId', 'Amount', 'Reason'],
      [acme.action.actionId, '', '80.00', 'ITEM_RETURNED'],
      [globex.action.actionId, '', '80.00', 'ITEM_RETURNED'],
      ['1000.nope', '', '80.00', 'ITEM_RETURNED'],
    ]);
    const uploaded = await uploadThroughConsole(context.server.baseUrl, acme.client, 'Batch_Mods_Reversals.csv', file);
    expect(uploaded.status).toBe(303);
    await drainBatches(services());
    const csv = await acme.client.get(`/admin/batches/${uploaded.batchId}/results`);
    expect(csv.status).toBe(200);
    const results = parseImpactResultsCsv(csv.body);
    expect(results.map((r) => [r.line, r.status, r.code])).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'ACTION_NOT_FOUND'],
      [3, 'Validation', 'ACTION_NOT_FOUND'],
    ]);
    expect((await services().stores.transactions.getById(globex.action.id))?.modificationCount).toBe(0);
  });

  it("shows a merchant only its own batches; another's answers as a missing one; an admin sees all", async () => {
    const [acme, globex] = await twoMerchants();
    const file = csvFile([
      ['Password', 'TransactionID', 'AP', 'MP', 'A'],
      [acme.campaign.password ?? '', String(acme.transaction.id), '2.00', '20.00', 'yes'],
    ]);
    const { batchId } = await uploadThroughConsole(context.server.baseUrl, acme.client, 'acme.csv', file);
    await drainBatches(services());

    const menu = (await acme.client.get('/admin/transactions')).body;
    expect(menu).toContain('<a href="/admin/batches">Batches</a>');
    const own = await acme.client.get(`/admin/batches/${batchId}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('acme.csv');
    expect((await acme.client.get('/admin/batches')).body).toContain(`href="/admin/batches/${batchId}"`);

    const list = await globex.client.get('/admin/batches');
    expect(list.status).toBe(200);
    expect(list.body).not.toContain(`href="/admin/batches/${batchId}"`);
    expect((await globex.client.get('/admin/batches/table')).body).not.toContain(`batch-${batchId}"`);
    const missingId = 1_999_999_999;
    for (const suffix of ['', '/results']) {
      const foreign = await globex.client.get(`/admin/batches/${batchId}${suffix}`);
      const missing = await globex.client.get(`/admin/batches/${missingId}${suffix}`);
      expect([foreign.status, missing.status]).toEqual([404, 404]);
      expect(foreign.body).toBe(missing.body);
    }

    // The same bytes from another merchant: its own batch, applied (not "a duplicate of" Acme's); from Acme
    // again: a duplicate of its own.
    const twin = await uploadThroughConsole(context.server.baseUrl, globex.client, 'acme.csv', file);
    expect(await services().batches.get(twin.batchId)).toMatchObject({ duplicateOf: null, state: 'queued' });
    const again = await uploadThroughConsole(context.server.baseUrl, acme.client, 'acme.csv', file);
    expect(await services().batches.get(again.batchId)).toMatchObject({ duplicateOf: batchId, state: 'completed' });

    const admin = await consoleClient(context.server.baseUrl);
    expect((await admin.get(`/admin/batches/${batchId}`)).status).toBe(200);
    expect((await admin.get(`/admin/batches/${batchId}/results`)).status).toBe(200);
    expect((await admin.get('/admin/batches')).body).toContain(`href="/admin/batches/${batchId}"`);
  });
});
