import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { parsePrometheusText } from '../support/prometheus-text';
import { adminRequest, useTestServer } from '../support/test-server';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';

async function scrape(baseUrl: string, token: string | null = METRICS_TOKEN) {
  const response = await fetch(`${baseUrl}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe.each(testEngines())('GET /metrics on %s', (engine) => {
  const context = useTestServer(engine, { METRICS_TOKEN });

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

  it('counts pending postbacks and the age of the oldest', async () => {
    const { services, baseUrl } = context.server;
    const before = parsePrometheusText((await scrape(baseUrl)).text);
    expect(before.value('txedit_postback_outbox', { status: 'pending' })).toBe(0);
    expect(before.value('txedit_postback_outbox_oldest_pending_age_seconds')).toBe(0);

    // The in-process worker is off in test servers: the delivery stays pending.
    const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/postback?tid={transaction_id}' });
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

describe('GET /metrics without METRICS_TOKEN', () => {
  const context = useTestServer('sqlite');

  it('does not exist', async () => {
    const answer = await scrape(context.server.baseUrl);
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain('txedit_');
  });
});
