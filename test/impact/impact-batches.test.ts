import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../../src/composition';
import { BatchWorker, type BatchWorkerOptions } from '../../src/batch/batch-worker';
import { impactRows } from '../../src/impact/impact-batch-rows';
import { parseImpactResultsCsv, type ImpactResultRecord } from '../../src/impact/impact-results-csv';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { startTestServer, useTestServer } from '../support/test-server';
import { statisticsMismatches } from '../faults/fault-helpers';
import { auth, csvFile, drainBatches, fetchBatch, uploadRaw } from '../batch/batch-helpers';
import { consoleClient } from '../console/console-client';

const DAY = 86_400_000;
// Event type ids of their own: these tests share a database with the event-type tests of other files.
let nextEventTypeId = 1_900_000_000 + (process.pid % 1000) * 1000;

async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await sleep(20);
}

describe.each(testEngines())('impact.com files applied through the core on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${context.server.baseUrl}/api/v1${path}`, {
      method,
      headers: { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  /** A campaign and affiliate, a percent (10 %) and a fixed (5.00) event type with custom codes. */
  async function scene() {
    // impact.com orders may hold several actions: the campaign does not enforce unique merchant references.
    const campaign = await buildCampaign(services(), { uniqueMerchantReference: false });
    const affiliate = await buildAffiliate(services());
    const codes = [
      { code: 'Store_Credit', effect: 'modify' },
      { code: 'CHARGEBACK', effect: 'reverse' },
      { code: 'SHIPPED_OK', effect: 'approve' },
    ];
    const percent = await api('POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: campaign.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
      dispositionCodes: codes,
    });
    const fixed = await api('POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: campaign.id,
      name: 'Lead',
      lockingDays: 60,
      payout: { type: 'fixed', value: '5' },
    });
    expect([percent.status, fixed.status]).toEqual([201, 201]);
    /** An action created through the admin API, two days ago unless said otherwise. */
    const action = async (fields: Record<string, unknown> = {}) => {
      const created = await api('POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: percent.body.id,
        merchantRevenue: '100.00',
        affiliatePayout: '10.00',
        approved: false,
        occurredAt: new Date(twoDaysAgo()).toISOString(),
        ...fields,
      });
      expect(created.status).toBe(201);
      return created.body as { id: number; actionId: string; merchantReferenceId: string | null };
    };
    return { campaign, affiliate, percent: percent.body.id as number, fixed: fixed.body.id as number, action };
  }

  /** Uploads a file, runs the worker until it is done, and reads its results CSV. */
  async function apply(text: string, filename = 'Batch_Mods_Reversals.csv') {
    await rollUpToNow(services());
    const uploaded = await uploadRaw(context.server.baseUrl, text, { filename });
    expect(uploaded.status).toBe(202);
    await drainBatches(services());
    const batch = (await fetchBatch(context.server.baseUrl, uploaded.body.id)).body;
    const response = await fetch(`${context.server.baseUrl}/api/v1/batches/${uploaded.body.id}/results`, {
      headers: auth,
    });
    const results = parseImpactResultsCsv(await response.text());
    return { batch, results, byLine: (line: number) => results.find((r) => r.line === line) as ImpactResultRecord };
  }
  const transaction = async (id: number) => (await api('GET', `/transactions/${id}`)).body;
  const codes = (results: ImpactResultRecord[]) => results.map((r) => [r.line, r.status, r.code]);

  it('answers every code from one order file, good and bad rows mixed, in file order', async () => {
    const { percent, fixed, action } = await scene();
    const good = await action();
    const locked = await action({ occurredAt: new Date(Date.now() - 40 * DAY).toISOString() });
    const reversedLater = await action();
    const approvedLater = await action();
    const unchanged = await action();
    const capped = await action();
    await services().db.knex('transactions').where({ id: capped.id }).update({ modification_count: 1000 });
    const other = await action({ eventTypeId: fixed });
    const file = csvFile([
      ['ActionId', 'ActionTrackerId', 'Amount', 'Reason'],
      [good.actionId, '', '80.00', 'ITEM_RETURNED'], // 1 MODIFIED
      [good.actionId, '', '12.345', 'ORDER_UPDATE'], // 2 MALFORMED
      [good.actionId, '999999999', '1.00', 'ORDER_UPDATE'], // 3 ActionTrackerId: unknown
      [other.actionId, String(percent), '1.00', 'ORDER_UPDATE'], // 4 ActionTrackerId: not the action's
      ['1000.nope', '', '1.00', 'ORDER_UPDATE'], // 5 ACTION_NOT_FOUND
      [good.actionId, '', '70.00', 'store_credit'], // 6 BAD_DISPOSITION (custom codes: exact case)
      [locked.actionId, '', '70.00', 'ORDER_UPDATE'], // 7 ALREADY_LOCKED
      [reversedLater.actionId, '', '0', 'ORDER_UPDATE'], // 8 REVERSED
      [reversedLater.actionId, '', '50.00', 'ORDER_UPDATE'], // 9 ALREADY_REVERSED
      [approvedLater.actionId, '', '', 'SHIPPED_OK'], // 10 APPROVED
      [approvedLater.actionId, '', '50.00', 'ORDER_UPDATE'], // 11 ALREADY_APPROVED
      [capped.actionId, '', '50.00', 'ORDER_UPDATE'], // 12 MAX_MODIFICATIONS_REACHED
      [unchanged.actionId, '', '100.00', 'ORDER_UPDATE'], // 13 NO_CHANGE
      [good.actionId, '', '', 'Store_Credit'], // 14 NO_CHANGE: a modify code without an amount changes nothing
      [reversedLater.actionId, '', '', 'RESET'], // 15 RESET: the one way back from a reversal
    ]);
    const { batch, results } = await apply(file);
    expect(batch).toMatchObject({ kind: 'impact', state: 'completed', processed: 15, succeeded: 4, failed: 11 });
    expect(codes(results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'MALFORMED'],
      [3, 'Validation', 'ActionTrackerId: ActionTrackerId value is invalid'],
      [4, 'Validation', 'ActionTrackerId: ActionTrackerId value is invalid'],
      [5, 'Validation', 'ACTION_NOT_FOUND'],
      [6, 'Validation', 'BAD_DISPOSITION'],
      [7, 'Contract Error', 'ALREADY_LOCKED'],
      [8, 'OK', 'REVERSED'],
      [9, 'Contract Error', 'ALREADY_REVERSED'],
      [10, 'OK', 'APPROVED'],
      [11, 'Contract Error', 'ALREADY_APPROVED'],
      [12, 'Contract Error', 'MAX_MODIFICATIONS_REACHED'],
      [13, 'Contract Error', 'NO_CHANGE'],
      [14, 'Contract Error', 'NO_CHANGE'],
      [15, 'OK', 'RESET'],
    ]);
    expect(results[1].message).toMatch(/^Amount: /);
    // 10 % of 80.00; the history names the source and the row's code.
    const modified = await transaction(good.id);
    expect(modified).toMatchObject({
      merchantRevenue: '80.00',
      affiliatePayout: '8.00',
      state: 'PENDING',
      modificationCount: 1,
    });
    expect(modified.modifications).toEqual([
      expect.objectContaining({ source: 'impact', identifier: 'action_id', reason: 'ITEM_RETURNED' }),
    ]);
    expect(await transaction(reversedLater.id)).toMatchObject({
      merchantRevenue: '100.00',
      affiliatePayout: '10.00',
      state: 'PENDING',
      modificationCount: 2,
    });
    expect(await transaction(approvedLater.id)).toMatchObject({ state: 'APPROVED', approved: true });
    for (const untouched of [locked, unchanged, other])
      expect(await transaction(untouched.id)).toMatchObject({ modificationCount: 0, modifications: [] });
    expect(await statisticsMismatches(services().db.knex)).toEqual([]);

    // The console's submissions table tells the kind and door apart and counts the codes, most frequent first.
    const console = await consoleClient(context.server.baseUrl);
    const table = (await console.get('/admin/batches/table')).body;
    const line = new RegExp(`<tr id="batch-${batch.id}">[\\s\\S]*?</tr>`).exec(table)?.[0] ?? '';
    expect(line).toContain('impact.com<br><span class="small muted">admin API</span>');
    expect(line).toContain(`<a href="/admin/batches/${batch.id}">${batch.id}</a>`);
    // The batch's own page lists the refused rows with their codes, in file order.
    const page = (await console.get(`/admin/batches/${batch.id}`)).body;
    const refused = [
      ...page.matchAll(/<td data-label="Row" class="num">(\d+)<\/td>\s*<td data-label="Code"><code>([^<]*)<\/code>/g),
    ];
    expect(refused.map((m) => [Number(m[1]), m[2]])).toEqual([
      [2, 'MALFORMED'],
      [3, 'ActionTrackerId: ActionTrackerId value is invalid'],
      [4, 'ActionTrackerId: ActionTrackerId value is invalid'],
      [5, 'ACTION_NOT_FOUND'],
      [6, 'BAD_DISPOSITION'],
      [7, 'ALREADY_LOCKED'],
      [9, 'ALREADY_REVERSED'],
      [11, 'ALREADY_APPROVED'],
      [12, 'MAX_MODIFICATIONS_REACHED'],
      [13, 'NO_CHANGE'],
      [14, 'NO_CHANGE'],
    ]);
    expect(page).toContain('15 of 15 processed: 4 succeeded, 11 refused');
    expect((await console.get('/admin/batches/999999999')).status).toBe(404);
    const counts = [...line.matchAll(/<span class="small nowrap">([^<]+)<\/span>/g)].map((m) => m[1]);
    expect(counts.slice(0, 4)).toEqual([
      'ActionTrackerId: ActionTrackerId value is invalid 2',
      'NO_CHANGE 2',
      'ACTION_NOT_FOUND 1',
      'ALREADY_APPROVED 1',
    ]);
  });

  it('resolves an Oid to the newest action on that event type, and keeps a fixed payout (0 once reversed)', async () => {
    const { percent, fixed, action } = await scene();
    const oid = `ORD-${freshId()}`;
    const older = await action({
      merchantReferenceId: oid,
      occurredAt: new Date(twoDaysAgo() - 3_600_000).toISOString(),
    });
    const newest = await action({ merchantReferenceId: oid });
    const otherType = await action({
      merchantReferenceId: oid,
      eventTypeId: fixed,
      occurredAt: new Date(twoDaysAgo() + 60_000).toISOString(),
    });
    const fixedOne = await action({ eventTypeId: fixed, affiliatePayout: '5.00' });
    const { results } = await apply(
      csvFile([
        ['Oid', 'ActionTrackerId', 'ActionId', 'Amount', 'Reason'],
        [oid, String(percent), '', '55.55', 'ORDER_UPDATE'],
        ['', '', fixedOne.actionId, '42.00', 'ORDER_UPDATE'],
        ['', '', fixedOne.actionId, '0', 'OTHER'],
      ]),
    );
    expect(codes(results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'OK', 'MODIFIED'],
      [3, 'OK', 'REVERSED'],
    ]);
    expect(results[0]).toMatchObject({ oid, actionTrackerId: String(percent) });
    expect(await transaction(newest.id)).toMatchObject({ merchantRevenue: '55.55', affiliatePayout: '5.56' });
    expect(await transaction(older.id)).toMatchObject({ merchantRevenue: '100.00', modificationCount: 0 });
    expect(await transaction(otherType.id)).toMatchObject({ modificationCount: 0 });
    expect((await transaction(fixedOne.id)).modifications.map((m: { after: unknown }) => m.after)).toEqual([
      { affiliatePayout: '5.00', merchantRevenue: '42.00', approved: false },
      { affiliatePayout: '0.00', merchantRevenue: '0.00', approved: false },
    ]);
  });

  it('applies item-level files, numbered and one item per row, and refuses an unknown SKU', async () => {
    const { action } = await scene();
    const items = [
      { sku: 'SHOE-1', quantity: 2, amount: '60.00' },
      { sku: 'SOCK-9', quantity: 3, amount: '40.00' },
    ];
    const numbered = await action({ items });
    const perRow = await action({ items });
    const first = await apply(
      csvFile([
        ['ActionId', 'Reason', 'Sku1', 'Quantity1', 'Amount1', 'Sku2', 'Quantity2', 'Amount2'],
        [numbered.actionId, 'ITEM_RETURNED', 'SHOE-1', '1', '30.00', 'SOCK-9', '3', '40.00'],
        [numbered.actionId, 'ITEM_RETURNED', 'HAT-4', '1', '1.00', '', '', ''],
      ]),
    );
    expect(codes(first.results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'SKU_NOT_FOUND'],
    ]);
    expect(await transaction(numbered.id)).toMatchObject({
      merchantRevenue: '70.00',
      affiliatePayout: '7.00',
      items: [
        { sku: 'SHOE-1', quantity: 1, amount: '30.00', category: null, name: null },
        { sku: 'SOCK-9', quantity: 3, amount: '40.00', category: null, name: null },
      ],
    });
    const second = await apply(
      csvFile([
        ['ActionId', 'Sku', 'Quantity', 'Amount', 'Reason'],
        [perRow.actionId, 'SOCK-9', '0', '0', 'ITEM_RETURNED'],
        [perRow.actionId, 'SHOE-1', '3', '90.00', 'ITEM_RETURNED'],
      ]),
    );
    expect(codes(second.results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'MALFORMED'],
    ]);
    expect(second.results[0].sku).toBe('SOCK-9');
    expect(second.results[1].message).toMatch(/Quantity/);
    expect(await transaction(perRow.id)).toMatchObject({ merchantRevenue: '60.00', affiliatePayout: '6.00' });
  });

  it('applies mobile files, reset files and XML files', async () => {
    const { percent, action } = await scene();
    const mobile = await action({ actionId: `M${freshId()}` });
    const oid = `ORD-${freshId()}`;
    const toReset = await action({ merchantReferenceId: oid });
    const xmlAction = await action();
    const mobileRun = await apply(
      csvFile([
        ['ActionId', 'Amount', 'Reason'],
        [mobile.actionId, '25.00', 'ORDER_UPDATE'],
        [toReset.actionId, '0', 'REJECTED'],
        // A mobile row takes ORDER_UPDATE or REJECTED only, though ITEM_RETURNED is a standard code.
        [mobile.actionId, '20.00', 'ITEM_RETURNED'],
      ]),
      'mobile.csv',
    );
    expect(codes(mobileRun.results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'OK', 'REVERSED'],
      [3, 'Validation', 'BAD_DISPOSITION'],
    ]);
    const resetRun = await apply(
      csvFile([
        ['Oid', 'ActionTrackerId', 'Reason'],
        [oid, String(percent), 'RESET'],
      ]),
      'reset.csv',
    );
    expect(codes(resetRun.results)).toEqual([[1, 'OK', 'RESET']]);
    expect(await transaction(toReset.id)).toMatchObject({
      state: 'PENDING',
      merchantRevenue: '100.00',
      affiliatePayout: '10.00',
    });
    const xml = await apply(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Modifications>\n` +
        `<Modification><ActionId>${xmlAction.actionId}</ActionId><Amount>12.50</Amount><Reason>ORDER_UPDATE</Reason></Modification>\n` +
        `<Modification><ActionId>${xmlAction.actionId}</ActionId><Amount>oops</Amount><Reason>ORDER_UPDATE</Reason></Modification>\n` +
        `</Modifications>\n`,
      'mods.xml',
    );
    expect(codes(xml.results)).toEqual([
      [1, 'OK', 'MODIFIED'],
      [2, 'Validation', 'MALFORMED'],
    ]);
    expect(await transaction(xmlAction.id)).toMatchObject({ merchantRevenue: '12.50', affiliatePayout: '1.25' });
  });

  it('refuses the 1,001st modification of an action that 1,000 rows changed', async () => {
    const { action } = await scene();
    const busy = await action();
    // Alternating amounts so that every row is a change.
    const rows = Array.from({ length: 1001 }, (_, i) => [
      busy.actionId,
      i % 2 === 0 ? '50.00' : '60.00',
      'ORDER_UPDATE',
    ]);
    const { batch, results } = await apply(csvFile([['ActionId', 'Amount', 'Reason'], ...rows]));
    expect(batch).toMatchObject({ processed: 1001, succeeded: 1000, failed: 1 });
    expect(results[1000]).toMatchObject({ line: 1001, code: 'MAX_MODIFICATIONS_REACHED' });
    expect(await transaction(busy.id)).toMatchObject({ modificationCount: 1000, merchantRevenue: '60.00' });
  }, 120_000);

  it('waits for the hour to be rolled up instead of answering with it, then applies', async () => {
    const { action } = await scene();
    const fresh = await action({ occurredAt: new Date().toISOString() });
    const uploaded = await uploadRaw(
      context.server.baseUrl,
      csvFile([
        ['ActionId', 'Amount', 'Reason'],
        [fresh.actionId, '20.00', 'ORDER_UPDATE'],
      ]),
      { filename: 'now.csv' },
    );
    await services().batchWorker.runOnce();
    expect((await fetchBatch(context.server.baseUrl, uploaded.body.id)).body).toMatchObject({ processed: 0 });
    // The hour ends and is rolled up: the row applies on the next pass.
    await services()
      .db.knex('processing_state')
      .where({ id: 1 })
      .update({ rolled_up_through: Date.now() + 3_600_000 });
    await drainBatches(services());
    expect((await fetchBatch(context.server.baseUrl, uploaded.body.id)).body).toMatchObject({
      state: 'completed',
      succeeded: 1,
    });
  });

  it('resumes an impact batch stopped mid-way in a new server over the same database, applying no row twice', async () => {
    const { action } = await scene();
    const actions = [];
    for (let i = 0; i < 60; i++) actions.push(await action());
    await rollUpToNow(services());
    const uploaded = await uploadRaw(
      context.server.baseUrl,
      csvFile([['ActionId', 'Amount', 'Reason'], ...actions.map((a) => [a.actionId, '33.00', 'ORDER_UPDATE'])]),
      { filename: 'restart.csv' },
    );
    let decided = 0;
    let stopping: Promise<void> | undefined;
    const first: BatchWorker = workerFor(services(), {
      chunkSize: 10,
      concurrency: 4,
      onRowProcessed: () => {
        if (++decided === 15) stopping = first.stop();
      },
    });
    first.start();
    await until(() => stopping !== undefined);
    await stopping;
    const halfway = (await fetchBatch(context.server.baseUrl, uploaded.body.id)).body;
    expect(halfway.processed).toBeLessThan(60);
    const restarted = await startTestServer(context.database.db);
    try {
      restarted.services.batchWorker.start();
      await until(async () => (await fetchBatch(restarted.baseUrl, uploaded.body.id)).body.state === 'completed');
    } finally {
      await restarted.services.batchWorker.stop();
      await restarted.close();
    }
    expect((await fetchBatch(context.server.baseUrl, uploaded.body.id)).body).toMatchObject({
      processed: 60,
      succeeded: 60,
    });
    for (const a of actions)
      expect(await transaction(a.id)).toMatchObject({ modificationCount: 1, merchantRevenue: '33.00' });
  });
});

/** A worker of its own over the server's stores and cores, as another process would build it. */
function workerFor(services: Services, options: BatchWorkerOptions): BatchWorker {
  return new BatchWorker(
    {
      store: services.stores.batches,
      modifications: services.modifications,
      impactRows: impactRows({ modifications: services.impact, accountCurrency: 'USD' }),
      processingState: services.stores.processingState,
      logger: services.logger,
    },
    options,
  );
}
