import { parse } from 'csv-parse/sync';
import { NOT_CSV_OR_XML } from '../../src/batch/batch-service';
import type { RowResult } from '../../src/core/row-result';
import { impactMessage } from '../../src/impact/result-codes';
import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { auth, csvFile, fetchBatch, sampleHeader, tabFile, uploadRaw } from './batch-helpers';

const ORDER_HEADER = ['ActionId', 'Oid', 'ActionTrackerId', 'Amount', 'Reason'];

describe.each(testEngines())('impact.com files: upload and results on %s', (engine) => {
  const context = useTestServer(engine);
  const upload = (body: string, filename: string, query: Record<string, string> = {}) =>
    uploadRaw(context.server.baseUrl, body, { filename, ...query });
  const store = () => context.server.services.stores.batches;
  /** The results file as served, unparsed (fetchResults reads only Lead Poster results). */
  const fetchResultsText = async (batchId: number) => {
    const response = await fetch(`${context.server.baseUrl}/api/v1/batches/${batchId}/results`, { headers: auth });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  };

  /** A file of `count` order rows, unique to the test by `tag`. */
  const orderFile = (tag: string, count: number) =>
    csvFile([
      ORDER_HEADER,
      ...Array.from({ length: count }, (_, i) => [`${tag}.${i}`, '', '', '10.00', 'ORDER_UPDATE']),
    ]);

  it('stores an impact CSV with kind impact, its rows under canonical names, queued', async () => {
    const text = csvFile([
      ['actionid', 'OrderId', 'ActionTrackerId', 'AMOUNT', 'DispositionCode'],
      ['1000.2000.3000', 'ORD-1', '7', '19.90', 'ORDER_UPDATE'],
      ['', '', '', '', ''],
      ['', 'ORD-2', '7', '0', 'REJECTED'],
    ]);
    const { status, body } = await upload(text, 'Batch_Mods_Reversals_2025_02_12.csv');
    expect(status).toBe(202);
    expect(body).toMatchObject({ kind: 'impact', format: 'csv', state: 'queued', records: 2, error: null });
    const rows = await store().waitingRows(body.id, 0, 10);
    expect(rows).toEqual([
      {
        rowNumber: 1,
        parameters: [
          { name: 'ActionId', value: '1000.2000.3000' },
          { name: 'Oid', value: 'ORD-1' },
          { name: 'ActionTrackerId', value: '7' },
          { name: 'Amount', value: '19.90' },
          { name: 'Reason', value: 'ORDER_UPDATE' },
        ],
      },
      {
        rowNumber: 3,
        parameters: [
          { name: 'ActionId', value: '' },
          { name: 'Oid', value: 'ORD-2' },
          { name: 'ActionTrackerId', value: '7' },
          { name: 'Amount', value: '0' },
          { name: 'Reason', value: 'REJECTED' },
        ],
      },
    ]);
    expect((await fetchBatch(context.server.baseUrl, body.id)).body).toMatchObject({ kind: 'impact', records: 2 });
  });

  it('stores an impact XML file with kind impact and format xml', async () => {
    const text =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Actions>\n' +
      '<Action><ActionId>M1</ActionId><Amount>0</Amount><Reason>REJECTED</Reason></Action>\n' +
      '<Action><ActionId>M2</ActionId><Amount>5.00</Amount><Reason>ORDER_UPDATE</Reason></Action>\n</Actions>\n';
    const { status, body } = await upload(text, 'mobile.XML');
    expect(status).toBe(202);
    expect(body).toMatchObject({ kind: 'impact', format: 'xml', state: 'queued', records: 2 });
    expect((await store().waitingRows(body.id, 0, 10))[1]).toEqual({
      rowNumber: 2,
      parameters: [
        { name: 'ActionId', value: 'M2' },
        { name: 'Amount', value: '5.00' },
        { name: 'Reason', value: 'ORDER_UPDATE' },
      ],
    });
  });

  it('completes an impact file that is neither .csv nor .xml with records 0 and says why', async () => {
    const text = orderFile('not-csv', 3);
    const { status, body } = await upload(text, 'mods.txt');
    expect(status).toBe(202);
    expect(body).toMatchObject({
      kind: 'impact',
      state: 'completed',
      records: 0,
      processed: 0,
      duplicateOf: null,
      error: NOT_CSV_OR_XML,
    });
    expect(body.finishedAt).not.toBeNull();
    expect(await store().waitingRows(body.id, 0, 10)).toEqual([]);

    // The same file, named right, is read and queued: the refused upload did not claim its content.
    const renamed = await upload(text, 'mods.csv');
    expect(renamed.body).toMatchObject({ kind: 'impact', state: 'queued', records: 3, duplicateOf: null });
  });

  it('flags a re-upload of the same impact content as a duplicate, as for Lead Poster files', async () => {
    const text = orderFile('dup', 2);
    const first = await upload(text, 'a.csv');
    const again = await upload(text, 'b.csv');
    expect(again.body).toMatchObject({ kind: 'impact', state: 'completed', records: 2, duplicateOf: first.body.id });
    const forced = await upload(text, 'c.csv', { force: 'true' });
    expect(forced.body).toMatchObject({ state: 'queued', duplicateOf: first.body.id, forced: true });
  });

  it('keeps a Lead Poster file with a REASON column a Lead Poster file', async () => {
    const header = sampleHeader('transaction-id.txt');
    const text = tabFile([
      [...header, 'REASON'],
      ['pw', '123', '1.00', '2.00', 'yes', 'refund'],
    ]);
    const { status, body } = await upload(text, 'mods.txt');
    expect(status).toBe(202);
    expect(body).toMatchObject({ kind: 'lead-poster', format: 'tab', state: 'queued', records: 1 });
  });

  it.each([
    ['an unknown column', 'ActionId,Amount,Colour\nA,1,red\n', 'x.csv', 'unknown column(s): Colour'],
    [
      'an XML file with a DOCTYPE',
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><a><ActionId>&xxe;</ActionId></a></r>',
      'x.xml',
      'the XML file has a DOCTYPE: DTDs and the entities they declare are refused',
    ],
    [
      'XML named .csv',
      '<r><a><ActionId>1</ActionId></a></r>',
      'x.csv',
      'the file is named .csv but holds XML: name it .xml',
    ],
    ['a CSV named .xml', 'ActionId,Amount,Reason\n', 'x.xml', 'the file is named .xml but does not hold XML'],
  ])('refuses %s with 400 and stores nothing', async (_, text, filename, reason) => {
    const before = (await store().list({ limit: 1 }))[0]?.id ?? 0;
    const { status, body } = await upload(text, filename);
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: 'unreadable_file', message: `the file cannot be read: ${reason}` });
    expect((await store().list({ limit: 1 }))[0]?.id ?? 0).toBe(before);
  });

  it('round-trips impact results through the store and serves them as an impact results CSV', async () => {
    const { body } = await upload(orderFile('results', 3), 'results.csv');
    const base = { transactionId: '', clickId: '', merchantReferenceId: '', cid: '' };
    const applied: RowResult[] = [
      {
        ...base,
        rowNumber: 1,
        succeeded: true,
        merchantReferenceId: 'ORD-1',
        message: impactMessage('MODIFIED'),
        code: 'MODIFIED',
        actionId: 'results.0',
        oid: 'ORD-1',
        actionTrackerId: '7',
        sku: 'SKU-1',
      },
    ];
    const refused: RowResult[] = [
      {
        ...base,
        rowNumber: 2,
        succeeded: false,
        message: 'Amount: 12.345 is not a decimal with at most 2 decimals',
        code: 'MALFORMED',
        actionId: '=HYPERLINK("http://evil.example")',
        oid: null,
        actionTrackerId: null,
        sku: null,
      },
      {
        ...base,
        rowNumber: 3,
        succeeded: false,
        message: impactMessage('NO_CHANGE'),
        code: 'NO_CHANGE',
        actionId: 'results.2',
        oid: null,
        actionTrackerId: null,
        sku: null,
      },
    ];
    const { services } = context.server;
    const recorded = await services.stores.units.run((sql) => store().recordSuccesses(sql, body.id, applied));
    expect(recorded).toBe(true);
    await store().recordFailures(body.id, refused);

    expect(await store().results(body.id, 0, 10)).toEqual([...applied, ...refused]);

    const { status, contentType, text } = await fetchResultsText(body.id);
    expect(status).toBe(200);
    expect(contentType).toBe('text/csv; charset=utf-8');
    expect(text).toBe(
      'Line,Status,Code,Message,ActionId,Oid,ActionTrackerId,Sku\r\n' +
        '1,OK,MODIFIED,The action was modified.,results.0,ORD-1,7,SKU-1\r\n' +
        `2,Validation,MALFORMED,Amount: 12.345 is not a decimal with at most 2 decimals,"'=HYPERLINK(""http://evil.example"")",,,\r\n` +
        `3,Contract Error,NO_CHANGE,"${impactMessage('NO_CHANGE')}",results.2,,,\r\n`,
    );
    expect(parse(text, { columns: true })).toHaveLength(3);
  });

  it('keeps a Lead Poster batch’s results in LinkTrust’s columns, without impact fields', async () => {
    const header = sampleHeader('transaction-id.txt');
    const { body } = await upload(tabFile([header, ['pw', '999', '1.00', '2.00', 'yes']]), 'lp.txt');
    const result: RowResult = {
      rowNumber: 1,
      succeeded: false,
      message: 'Permanent failure: Invalid transaction specified',
      transactionId: '999',
      clickId: '',
      merchantReferenceId: '',
      cid: '',
    };
    await store().recordFailures(body.id, [result]);
    expect(await store().results(body.id, 0, 10)).toEqual([result]);
    const { text } = await fetchResultsText(body.id);
    expect(text.split('\r\n')[0]).toBe('Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID');
  });
});
