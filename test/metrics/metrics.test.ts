import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { parsePrometheusText } from '../support/prometheus-text';
import { adminRequest, useTestServer } from '../support/test-server';
import { eventually } from '../faults/fault-helpers';
import { DailyStatisticsStore } from '../../src/store/daily-statistics-store';
import { mysqlDriver, sqliteDriver } from '../../src/store/sql-drivers';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';

async function scrape(baseUrl: string, token: string | null = METRICS_TOKEN) {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe.each(testEngines())('GET /metrics on %s', (engine) => {
  const context = useTestServer(engine, { METRICS_TOKEN, REPORTING_TIMEZONE: 'UTC' });

  it('refuses a scrape without the bearer token or with a wrong one', async () => {
    for (const token of [null, 'wrong', `${METRICS_TOKEN}x`]) {
      const answer = await scrape(context.server.baseUrl, token);
      expect(answer.status).toBe(401);
      expect(answer.text).not.toContain('txedit_');
    }
  });

  it('answers the Prometheus text format with the process and processing gauges', async () => {
    const answer = await scrape(context.server.baseUrl);
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parsePrometheusText(answer.text);
    expect(metrics.types.get('txedit_nightly_in_progress')).toBe('gauge');
    expect(metrics.value('txedit_nightly_in_progress')).toBe(0);
    expect(metrics.value('txedit_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('follows the nightly hold and the roll-up lag', async () => {
    const { baseUrl } = context.server;
    expect((await adminRequest(baseUrl, 'PUT', '/processing/nightly', { inProgress: true })).status).toBe(200);
    expect(parsePrometheusText((await scrape(baseUrl)).text).value('txedit_nightly_in_progress')).toBe(1);
    expect((await adminRequest(baseUrl, 'PUT', '/processing/nightly', { inProgress: false })).status).toBe(200);
    const released = parsePrometheusText((await scrape(baseUrl)).text);
    expect(released.value('txedit_nightly_in_progress')).toBe(0);
    expect(released.value('txedit_nightly_last_completed_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);

    await rollUpToNow(context.server.services);
    const lag = parsePrometheusText((await scrape(baseUrl)).text).value('txedit_hourly_rollup_lag_seconds');
    // Rolled up through the start of this hour: the lag is under an hour (and a minute of slack).
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(3660);
  });

  it('shows a run’s live lease, its expiry, and the interruption once the day is redone', async () => {
    const { services, baseUrl } = context.server;
    const date = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    const gauges = async () => parsePrometheusText((await scrape(baseUrl)).text);
    expect((await gauges()).value('txedit_nightly_interruptions')).toBe(0);
    // What a runner killed mid-run leaves: its lease (2 s) and its day's run record, started, not completed.
    const startedAt = Date.now();
    await services.stores.units.run(async (sql) => {
      await services.stores.processingState.claimRun(sql, {
        date,
        holder: 'dead-host:1:metrics',
        startedAt,
        leaseMs: 2000,
      });
      await new DailyStatisticsStore(services.db.knex).recordRunStarted(sql, date, 'UTC', startedAt);
    });
    const running = await gauges();
    expect(running.value('txedit_nightly_run_lease_live')).toBe(1);
    expect(running.value('txedit_nightly_in_progress')).toBe(1);
    expect(running.value('txedit_nightly_held')).toBe(0);
    await eventually(
      'the lease expired',
      async () => ((await gauges()).value('txedit_nightly_run_lease_live') === 0 ? true : undefined),
      10_000,
    );
    expect((await gauges()).value('txedit_nightly_in_progress')).toBe(0);

    expect((await services.processing.redoInterruptedNightly()).map((r) => r.date)).toEqual([date]);
    const redone = await gauges();
    expect(redone.value('txedit_nightly_interruptions')).toBe(1);
    expect(redone.value('txedit_nightly_interrupted_days_pending')).toBe(0);
  });

  it('counts the edits of the one-unit path and its units of work (edits per COMMIT)', async () => {
    const { services, baseUrl } = context.server;
    const campaign = await buildCampaign(services);
    const affiliate = await buildAffiliate(services);
    const transactions = [];
    for (let i = 0; i < 21; i++) transactions.push(await buildTransaction(services, campaign, affiliate));
    await rollUpToNow(services);
    const edit = (id: number) =>
      fetch(`${baseUrl}/transaction.edit?Password=${campaign.password}&TransactionID=${id}&AP=1.00`).then((r) =>
        r.text(),
      );
    // The first verifies the password (the usual path); the other twenty may take the one-unit path, at once.
    expect(await edit(transactions[0].id)).toContain('True');
    const before = parsePrometheusText((await scrape(baseUrl)).text);
    expect(before.types.get('txedit_edit_units_total')).toBe('counter');
    const answers = await Promise.all(transactions.slice(1).map((t) => edit(t.id)));
    expect(answers.every((answer) => answer.includes('True'))).toBe(true);
    const after = parsePrometheusText((await scrape(baseUrl)).text);
    const changes = after.value('txedit_edit_unit_changes_total') - before.value('txedit_edit_unit_changes_total');
    const units = after.value('txedit_edit_units_total') - before.value('txedit_edit_units_total');
    expect(changes).toBe(20);
    expect(units).toBeGreaterThanOrEqual(1);
    expect(units).toBeLessThanOrEqual(20);
  });

  it('counts pending postbacks and the age of the oldest', async () => {
    const { services, baseUrl } = context.server;
    const before = parsePrometheusText((await scrape(baseUrl)).text);
    expect(before.value('txedit_postback_outbox', { status: 'pending' })).toBe(0);
    expect(before.value('txedit_postback_outbox_oldest_pending_age_seconds')).toBe(0);

    // The in-process worker is off in test servers: the delivery stays pending.
    const affiliate = await buildAffiliate(services, {
      postbackUrl: 'http://127.0.0.1:9/postback?tid={transaction_id}',
    });
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, affiliate);
    await rollUpToNow(services);
    const query = `Password=${campaign.password}&TransactionID=${transaction.id}&AP=1.00&executeaffiliatepixel=Yes`;
    const edit = await (await fetch(`${baseUrl}/transaction.edit?${query}`)).text();
    expect(edit).toContain('True');

    const after = parsePrometheusText((await scrape(baseUrl)).text);
    expect(after.value('txedit_postback_outbox', { status: 'pending' })).toBe(1);
    expect(after.value('txedit_postback_outbox', { status: 'failed' })).toBe(0);
    expect(after.value('txedit_postback_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(after.value('txedit_postback_outbox_oldest_pending_age_seconds')).toBeLessThan(60);
  });
});

describe.each(testEngines())('request and answer metrics on %s', (engine) => {
  const context = useTestServer(engine, { METRICS_TOKEN });
  const count = (scrape: ReturnType<typeof parsePrometheusText>, name: string, labels: Record<string, string>) =>
    scrape.samples.find(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )?.value ?? 0;

  it('counts requests per door and status, answers per message, and reads the pool, compares and waiting rows', async () => {
    const { services, baseUrl } = context.server;
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, await buildAffiliate(services));
    await rollUpToNow(services);
    const before = parsePrometheusText((await scrape(baseUrl)).text);
    const edit = (password: string | null, ap: string) =>
      fetch(`${baseUrl}/transaction.edit?Password=${password}&TransactionID=${transaction.id}&AP=${ap}`).then((r) =>
        r.text(),
      );
    expect(await edit(campaign.password, '1.00')).toContain('True');
    expect(await edit(campaign.password, '2.00')).toContain('True');
    expect(await edit('wrong', '3.00')).toContain('Invalid authentication credentials');
    expect((await fetch(`${baseUrl}/api/v1/campaigns`)).status).toBe(401);
    // A batch another worker holds: 5 rows, 2 done.
    await services.db.knex('batches').insert({
      filename: 'held.txt',
      content_sha256: 'f'.repeat(64),
      format: 'tab',
      encoding: 'utf-8',
      state: 'processing',
      records: 5,
      processed: 2,
      lease_owner: 'elsewhere',
      lease_expires_at: Date.now() + 3_600_000,
      created_at: Date.now(),
    });

    const after = parsePrometheusText((await scrape(baseUrl)).text);
    const delta = (name: string, labels: Record<string, string>) =>
      count(after, name, labels) - count(before, name, labels);
    const requests = 'txedit_http_request_duration_seconds_count';
    expect(delta(requests, { door: 'linktrust', status: '2xx' })).toBe(3);
    expect(delta(requests, { door: 'admin', status: '4xx' })).toBe(1);
    expect(delta('txedit_answers_total', { door: 'linktrust', message: 'Succeeded' })).toBe(2);
    expect(
      delta('txedit_answers_total', {
        door: 'linktrust',
        message: 'Permanent failure: Invalid authentication credentials',
      }),
    ).toBe(1);
    expect(after.types.get('txedit_http_request_duration_seconds')).toBe('histogram');
    expect(after.value('txedit_db_pool_connections', { state: 'pending' })).toBe(0);
    expect(after.value('txedit_db_pool_connections', { state: 'used' })).toBeGreaterThanOrEqual(0);
    expect(after.value('txedit_password_compares', { queue: 'normal', state: 'waiting' })).toBe(0);
    expect(after.value('txedit_batch_rows_pending')).toBe(3);
  });
  it('counts a keyed edit whose COMMIT landed despite a lost connection as a success, sending its stored answer', async () => {
    const { services, baseUrl } = context.server;
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, await buildAffiliate(services));
    await rollUpToNow(services);
    const edit = (ap: string, key?: string) =>
      fetch(`${baseUrl}/transaction.edit?Password=${campaign.password}&TransactionID=${transaction.id}&AP=${ap}`, {
        headers: key ? { 'idempotency-key': key } : {},
      }).then((r) => r.text());
    // The password vouched for first, so that the keyed edit takes the one-unit path (coalesced).
    expect(await edit('1.00')).toContain('True');
    const driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
    const all = driver.all.bind(driver);
    let armed = true;
    const spy = jest.spyOn(driver, 'all').mockImplementation(async (connection, statements, begin, commit) => {
      const results = await all(connection, statements, begin, commit);
      // The unit storing the key commits, and its acknowledgement is lost on the way back.
      if (armed && commit && statements.some(({ sql }) => sql.startsWith('insert into idempotency_keys'))) {
        armed = false;
        throw Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
        });
      }
      return results;
    });
    try {
      const before = parsePrometheusText((await scrape(baseUrl)).text);
      const key = `landed-${engine}-${transaction.id}`;
      const landed = await edit('2.00', key);
      expect(armed).toBe(false);
      const row = await services.db.knex('idempotency_keys').where({ transaction_id: transaction.id }).first();
      expect(landed).toBe(row.response);
      expect(landed).toContain('True');
      const afterLanded = parsePrometheusText((await scrape(baseUrl)).text);
      const delta = (after: typeof before, message: string) =>
        count(after, 'txedit_answers_total', { door: 'linktrust', message }) -
        count(before, 'txedit_answers_total', { door: 'linktrust', message });
      expect(delta(afterLanded, 'Succeeded')).toBe(1);
      expect(delta(afterLanded, 'Idempotent replay')).toBe(0);
      // A retry replays the same bytes, counted as a replay.
      expect(await edit('2.00', key)).toBe(landed);
      const afterRetry = parsePrometheusText((await scrape(baseUrl)).text);
      expect(delta(afterRetry, 'Succeeded')).toBe(1);
      expect(delta(afterRetry, 'Idempotent replay')).toBe(1);
      expect(await services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('GET /metrics under the admin brake', () => {
  const context = useTestServer('sqlite', { METRICS_TOKEN, RATE_LIMIT_ADMIN_FAILURES: '3', TRUST_PROXY: 'loopback' });
  const from = (address: string, token: string) =>
    fetch(`${context.server.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address },
    });

  it('counts wrong tokens per client: past the limit 429 with Retry-After, another client unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await from('198.51.100.7', 'guess')).status).toBe(401);
    const braked = await from('198.51.100.7', 'guess');
    expect(braked.status).toBe(429);
    expect(Number(braked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await braked.text()).includes('txedit_')).toBe(false);
    const scraped = await from('198.51.100.8', METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    // The 429 is counted as a rate-limit refusal of its door.
    expect(
      parsePrometheusText(await scraped.text()).value('txedit_rate_limit_refusals_total', { door: 'metrics' }),
    ).toBe(1);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  const context = useTestServer('sqlite');

  it('does not exist', async () => {
    const answer = await scrape(context.server.baseUrl);
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain('txedit_');
  });
});
