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
import { csvFile, drainBatches, uploadRaw } from '../batch/batch-helpers';
import { consoleClient, type ConsoleClient } from './console-client';
import { hourStart } from '../../src/core/hours';
import * as backfill from '../../db/migrations/20261206200100_disposition_code_backfill';
import { choosePassword } from '../merchants/merchant-scene';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
const PASSWORD = 'a long merchant password';
// Event type ids of their own: these tests share a database with other files' event types.
let nextEventTypeId = 1_970_000_000 + (process.pid % 1000) * 1000;

/** The table's body rows as their cells' text, in order. */
function tableRows(body: string): string[][] {
  return [...body.matchAll(/<tr><td data-label="Period">[\s\S]*?<\/tr>/g)].map((m) =>
    [...m[0].matchAll(/<td[^>]*>(?:<a[^>]*>|<span[^>]*>)?([^<]*)/g)].map((cell) => cell[1]),
  );
}

describe.each(testEngines())('reversals by disposition code and merchant reports on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  let admin: ConsoleClient;
  let acme: ConsoleClient;
  let campaignA: number;
  let campaignB: number;
  let affiliateId: number;
  let later: string;
  let earlier: string;
  let from: string;
  let to: string;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    const calendar = services().processing.calendar;
    const affiliate = await buildAffiliate(services());
    affiliateId = affiliate.id;
    const a = await buildCampaign(services(), { uniqueMerchantReference: false, allowExternalModification: true });
    const b = await buildCampaign(services(), { allowExternalModification: true });
    [campaignA, campaignB] = [a.id, b.id];
    const eventType = await api('POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: a.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
      dispositionCodes: [{ code: 'CHARGEBACK', effect: 'reverse' }],
    });
    expect(eventType.status).toBe(201);
    // Two hours of actions, two days ago (well inside the locking period).
    const laterHour = hourStart(twoDaysAgo());
    const earlierHour = laterHour - HOUR;
    const action = async (name: string, at: number) => {
      const created = await api('POST', '/transactions', {
        campaignId: a.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '100.00',
        affiliatePayout: '10.00',
        approved: false,
        occurredAt: new Date(at + 5 * 60_000).toISOString(),
      });
      expect(created.status).toBe(201);
      ids[name] = created.body.id;
      return created.body.actionId as string;
    };
    const byFile = await action('byFile', laterHour);
    const rejected = await action('rejected', laterHour);
    const thenReset = await action('thenReset', laterHour);
    await action('untouched', laterHour);
    await action('byHand', earlierHour);
    // Another merchant's campaign, with figures of its own in the same hours.
    await buildTransaction(services(), b, affiliate, {
      affiliatePayout: '7.00',
      merchantRevenue: '9.00',
      occurredAt: laterHour + 60_000,
    });
    await rollUpToNow(services());

    const upload = async (rows: string[][]) => {
      const sent = await uploadRaw(
        context.server.baseUrl,
        csvFile([['ActionId', 'ActionTrackerId', 'Amount', 'Reason'], ...rows]),
        {
          filename: 'Batch_Mods_Reversals.csv',
        },
      );
      expect(sent.status).toBe(202);
      await drainBatches(services());
    };
    await upload([
      [byFile, '', '', 'CHARGEBACK'],
      [rejected, '', '0', 'REJECTED'],
      [thenReset, '', '', 'REJECTED'],
    ]);
    await upload([[thenReset, '', '', 'RESET']]);
    const hand = await api('POST', `/transactions/${ids.byHand}/modifications`, {
      dispositionCode: 'CHARGEBACK',
      reason: 'the bank took it back',
    });
    expect(hand.status).toBe(201);

    later = (() => {
      const { date, minuteOfDay } = calendar.localTime(laterHour);
      return `${date} ${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
    })();
    earlier = (() => {
      const { date, minuteOfDay } = calendar.localTime(earlierHour);
      return `${date} ${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
    })();
    from = calendar.dateOf(earlierHour);
    to = calendar.dateOf(laterHour);

    for (const date of new Set([from, to]))
      expect((await services().processing.runNightly({ date })).kind).toBe('completed');

    admin = await consoleClient(context.server.baseUrl);
    const merchant = await api('POST', '/merchants', { name: `Acme ${a.id}`, campaignIds: [a.id] });
    await api('POST', '/merchants', { name: `Globex ${b.id}`, campaignIds: [b.id] });
    const email = `ops-${a.id}@acme.example`;
    const user = await api('POST', `/merchants/${merchant.body.id}/users`, { email, name: 'Acme Ops' });
    expect((await choosePassword(user.body.setPasswordUrl, PASSWORD)).status).toBe(303);
    acme = await consoleClient(context.server.baseUrl, { name: email, secret: PASSWORD });
  });

  it('stores the code that put each action in its state: the file’s, the hand edit’s, RESET’s', async () => {
    const code = async (id: number) => (await services().stores.transactions.getById(id))?.dispositionCode;
    expect(await code(ids.byFile)).toBe('CHARGEBACK');
    expect(await code(ids.rejected)).toBe('REJECTED');
    expect(await code(ids.byHand)).toBe('CHARGEBACK');
    expect(await code(ids.thenReset)).toBe('RESET');
    expect(await code(ids.untouched)).toBeNull();
  });

  it('counts reversals by code in hourly rows, RESET taking one away, and the CSV is the table', async () => {
    const query = `granularity=hour&campaignId=${campaignA}&from=${from}&to=${to}`;
    const page = await admin.get(`/admin/reports?${query}`);
    expect(page.status).toBe(200);
    const head =
      'Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals,Reversed CHARGEBACK,Reversed REJECTED';
    expect(page.body).toContain('<th scope="col" class="num">Reversed CHARGEBACK</th>');
    expect(tableRows(page.body)).toEqual([
      [earlier, String(campaignA), String(affiliateId), '1', '0', '0.00', '0.00', '1', '1', '0'],
      [later, String(campaignA), String(affiliateId), '4', '0', '20.00', '200.00', '2', '1', '1'],
    ]);
    const csv = await admin.get(`/admin/reports.csv?${query}`);
    expect(csv.body).toBe(
      [head, ...tableRows(page.body).map((cells) => cells.join(','))].map((line) => `${line}\r\n`).join(''),
    );
    const chart = JSON.parse(/id="report-chart-data">([^<]*)</.exec(page.body)![1]);
    expect(chart.series).toEqual([
      { label: 'CHARGEBACK', stack: 'reversals', data: [1, 1] },
      { label: 'REJECTED', stack: 'reversals', data: [0, 1] },
    ]);
  });

  it('folds the hours into the reporting days', async () => {
    const page = await admin.get(`/admin/reports.csv?campaignId=${campaignA}&from=${from}&to=${to}`);
    const lines = page.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals,Reversed CHARGEBACK,Reversed REJECTED',
    );
    const counts = lines.slice(1).map((line) => line.split(',').slice(7).map(Number));
    const total = counts.reduce((sum, c) => sum.map((s, i) => s + c[i]), [0, 0, 0]);
    expect(total).toEqual([3, 2, 1]);
    if (from === to) expect(counts).toEqual([[3, 2, 1]]);
  });

  it('fills the code of reversals from before the column from their newest history row', async () => {
    const { knex } = context.database.db;
    await knex('transactions').whereIn('id', [ids.byFile, ids.byHand]).update({ disposition_code: null });
    await backfill.up(knex);
    await backfill.up(knex);
    const rows = await knex('transactions').whereIn('id', [ids.byFile, ids.byHand, ids.thenReset]).orderBy('id');
    expect(
      rows.map((r: { id: number | string; disposition_code: string | null }) => [Number(r.id), r.disposition_code]),
    ).toEqual([
      [ids.byFile, 'CHARGEBACK'],
      [ids.thenReset, 'RESET'],
      // A hand edit's history row holds the typed reason: the backfill can only take that.
      [ids.byHand, 'the bank took it back'],
    ]);
    await knex('transactions').where('id', ids.byHand).update({ disposition_code: 'CHARGEBACK' });
  });

  it('shows a merchant its campaigns only, and another merchant’s campaign as a missing one', async () => {
    const query = `granularity=hour&from=${from}&to=${to}`;
    const own = await acme.get(`/admin/reports?${query}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('href="/admin/reports"');
    expect(new Set(tableRows(own.body).map((cells) => cells[1]))).toEqual(new Set([String(campaignA)]));
    const network = tableRows((await admin.get(`/admin/reports?${query}`)).body).map((cells) => cells[1]);
    expect(network).toContain(String(campaignB));
    const ownCsv = await acme.get(`/admin/reports.csv?${query}`);
    expect(ownCsv.body).not.toMatch(new RegExp(`,${campaignB},`));
    expect(ownCsv.body.trim().split('\r\n')).toHaveLength(3);

    const missing = 4_000_000_000;
    const theirs = await acme.get(`/admin/reports?${query}&campaignId=${campaignB}`);
    const none = await acme.get(`/admin/reports?${query}&campaignId=${missing}`);
    expect(theirs.status).toBe(none.status);
    expect(theirs.body.replaceAll(String(campaignB), 'ID')).toBe(none.body.replaceAll(String(missing), 'ID'));
    const theirsCsv = await acme.get(`/admin/reports.csv?${query}&campaignId=${campaignB}`);
    const noneCsv = await acme.get(`/admin/reports.csv?${query}&campaignId=${missing}`);
    expect(theirsCsv.body).toBe(noneCsv.body);
    expect(theirsCsv.body).toBe('Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals\r\n');
  });
});
