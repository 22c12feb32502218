import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import type { batchJson } from '../../src/batch/batch-router';
import { parseResultsCsv } from '../../src/batch/results-csv';
import type { RowResult } from '../../src/core/row-result';
import type { Services } from '../../src/composition';
import { parseMoney } from '../../src/core/money';
import { freshId, twoDaysAgo } from '../support/factories';
import { TEST_ADMIN_TOKEN } from '../support/test-server';

/** The header line of a file in samples/, as the merchant would copy it. */
export function sampleHeader(name: string): string[] {
  const text = readFileSync(join(__dirname, '../../samples', name), 'utf8');
  const line = text.split(/\r?\n/)[0];
  return line.split(name.endsWith('.csv') ? ',' : '\t');
}

/** Lines of a tab-delimited file (no quoting: the values must not hold tabs or quotes). */
export function tabFile(rows: string[][], lineEnd = '\r\n'): string {
  return rows.map((row) => row.join('\t')).join(lineEnd) + lineEnd;
}

/** Lines of a CSV file, quoting as Excel does. */
export function csvFile(rows: string[][], lineEnd = '\r\n'): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return rows.map((row) => row.map(field).join(',')).join(lineEnd) + lineEnd;
}

/** The bytes a spreadsheet would write for the text in each encoding. */
export function encode(text: string, encoding: 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'windows-1252'): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'windows-1252':
      return iconv.encode(text, 'windows-1252');
  }
}

/** A batch as the API returns it, or an error body. */
export type BatchBody = ReturnType<typeof batchJson> & { error: { code: string; message: string } };

/** Admin headers. */
export const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** POSTs a file as the raw body; returns status and JSON. */
export async function uploadRaw(
  baseUrl: string,
  body: Buffer | string,
  query: Record<string, string>,
  contentType = 'text/plain',
) {
  const search = new URLSearchParams(query).toString();
  const response = await fetch(`${baseUrl}/api/v1/batches?${search}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as BatchBody };
}

/** GETs a batch's results CSV: status, content type, raw text and parsed results. */
export async function fetchResults(baseUrl: string, batchId: number) {
  const response = await fetch(`${baseUrl}/api/v1/batches/${batchId}/results`, { headers: auth });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
    results: response.status === 200 ? parseResultsCsv(text) : [],
  };
}

/** GETs a batch as JSON. */
export async function fetchBatch(baseUrl: string, batchId: number) {
  const response = await fetch(`${baseUrl}/api/v1/batches/${batchId}`, { headers: auth });
  return { status: response.status, body: (await response.json()) as BatchBody };
}

/** Processes every waiting batch with the server's own worker, one pass each, until none is left. */
export async function drainBatches(services: Services): Promise<void> {
  while ((await services.batchWorker.runOnce()) !== null) {
    // runOnce processes a claimed batch to its end; loop for the next one.
  }
}

/** Results by row number. */
export function byRow(results: RowResult[]): Map<number, RowResult> {
  return new Map(results.map((r) => [r.rowNumber, r]));
}

/**
 * Inserts `count` transactions on one campaign and affiliate straight into the table (the factories'
 * one-by-one inserts would dominate a 10,000-row test), spread over the 24 hours before two days ago,
 * as real conversions are, rather than all sharing one statistics row. Their ids, in insertion order.
 */
export async function insertManyTransactions(
  services: Services,
  campaignId: number,
  affiliateId: number,
  count: number,
): Promise<number[]> {
  const now = Date.now();
  const occurredAt = twoDaysAgo();
  const ids = Array.from({ length: count }, () => freshId());
  // 400 rows per INSERT: knex writes SQLite multi-row inserts as a compound SELECT (at most 500 terms).
  for (let start = 0; start < ids.length; start += 400) {
    await services.db.knex('transactions').insert(
      ids.slice(start, start + 400).map((id, i) => ({
        id,
        click_id: `bulk-${id}`,
        campaign_id: campaignId,
        affiliate_id: affiliateId,
        merchant_reference_id: `BULK-${id}`,
        affiliate_payout: Number(parseMoney('10.00')),
        merchant_revenue: Number(parseMoney('100.00')),
        approved: true,
        occurred_at: occurredAt - ((start + i) % 24) * 3_600_000,
        created_at: now,
        updated_at: now,
      })),
    );
  }
  return ids;
}

/** History rows per transaction id, for the given transactions. */
export async function historyCounts(services: Services, transactionIds: number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>(transactionIds.map((id) => [id, 0]));
  for (let start = 0; start < transactionIds.length; start += 1000) {
    const rows = await services.db
      .knex('modifications')
      .whereIn('transaction_id', transactionIds.slice(start, start + 1000))
      .groupBy('transaction_id')
      .select('transaction_id', services.db.knex.raw('count(*) as n'));
    for (const row of rows as Array<{ transaction_id: number | string; n: number | string }>)
      counts.set(Number(row.transaction_id), Number(row.n));
  }
  return counts;
}
