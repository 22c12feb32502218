import { Registry } from 'prom-client';
import { doorOf, Instruments } from '../../src/metrics/instruments';
import { parsePrometheusText } from '../support/prometheus-text';

const sources = {
  pool: () => ({ used: 3, free: 7, pending: 2 }),
  compares: () => ({ normal: { running: 2, waiting: 5 }, suspect: { running: 1, waiting: 40 } }),
  batchRowsPending: async () => 1234,
};

describe('Instruments', () => {
  it('tells the door of a path in any case', () => {
    expect(doorOf('/transaction.edit')).toBe('linktrust');
    expect(doorOf('/Transaction.Edit')).toBe('linktrust');
    expect(doorOf('/api/v1/batches/3')).toBe('admin');
    expect(doorOf('/admin')).toBe('console');
    expect(doorOf('/admin/batches')).toBe('console');
    expect(doorOf('/administrator')).toBe('other');
    expect(doorOf('/Advertisers/IR1/Actions')).toBe('impact');
    expect(doorOf('/metrics')).toBe('metrics');
    expect(doorOf('/healthz')).toBe('health');
    expect(doorOf('/favicon.ico')).toBe('other');
  });

  it('counts 429s and rate-limited answers as refusals, and reads its gauges at scrape time', async () => {
    const registry = new Registry();
    const instruments = new Instruments(registry, sources);
    instruments.request('/api/v1/campaigns', 429, 0.002);
    instruments.request('/transaction.edit', 200, 0.004);
    instruments.answered(
      'linktrust',
      'Temporary failure: rate limited LinkTrust API was unable to complete the request',
      true,
    );
    instruments.answered('batch', 'MODIFIED');
    const scrape = parsePrometheusText(await registry.metrics());
    expect(scrape.value('txedit_rate_limit_refusals_total', { door: 'admin' })).toBe(1);
    expect(scrape.value('txedit_rate_limit_refusals_total', { door: 'linktrust' })).toBe(1);
    expect(scrape.value('txedit_http_request_duration_seconds_count', { door: 'admin', status: '4xx' })).toBe(1);
    expect(
      scrape.value('txedit_http_request_duration_seconds_bucket', { door: 'linktrust', status: '2xx', le: '0.005' }),
    ).toBe(1);
    expect(
      scrape.value('txedit_http_request_duration_seconds_bucket', { door: 'linktrust', status: '2xx', le: '0.0025' }),
    ).toBe(0);
    expect(scrape.value('txedit_answers_total', { door: 'batch', message: 'MODIFIED' })).toBe(1);
    expect(scrape.value('txedit_db_pool_connections', { state: 'pending' })).toBe(2);
    expect(scrape.value('txedit_password_compares', { queue: 'suspect', state: 'waiting' })).toBe(40);
    expect(scrape.value('txedit_batch_rows_pending')).toBe(1234);
  });

  it('keeps the message label to 200 values: the rest count as other', async () => {
    const registry = new Registry();
    const instruments = new Instruments(registry, sources);
    for (let i = 0; i < 250; i++) instruments.answered('batch', `Amount: ${i} is not a decimal`);
    const scrape = parsePrometheusText(await registry.metrics());
    const answers = scrape.samples.filter((sample) => sample.name === 'txedit_answers_total');
    expect(answers).toHaveLength(201);
    expect(scrape.value('txedit_answers_total', { message: 'other' })).toBe(50);
  });
});
