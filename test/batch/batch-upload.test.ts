import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { adminRequest, startTestServer, useTestServer } from '../support/test-server';
import {
  auth,
  type BatchBody,
  byRow,
  csvFile,
  drainBatches,
  encode,
  fetchBatch,
  fetchResults,
  sampleHeader,
  tabFile,
  uploadRaw,
} from './batch-helpers';

describe.each(testEngines())('bulk modification files: upload and results on %s', (engine) => {
  const context = useTestServer(engine);

  /** Uploads, processes every waiting batch, and returns the batch and its results. */
  async function uploadAndProcess(
    body: Buffer | string,
    query: Record<string, string> = {},
    contentType = 'text/plain',
  ) {
    const upload = await uploadRaw(context.server.baseUrl, body, { filename: 'mods.txt', ...query }, contentType);
    expect(upload.status).toBe(202);
    await drainBatches(context.server.services);
    const batch = await fetchBatch(context.server.baseUrl, upload.body.id);
    const results = await fetchResults(context.server.baseUrl, upload.body.id);
    return { upload: upload.body, batch: batch.body, ...results };
  }

  const transaction = (id: number) => context.server.services.stores.transactions.getById(id);
  const history = (id: number) => context.server.services.stores.modifications.listForTransaction(id);

  describe('identifier layouts of samples/', () => {
    it('applies a TransactionID file (samples/transaction-id.txt) and says Succeeded per row', async () => {
      const { campaign, transaction: first, affiliate } = await buildScene(context.server.services);
      const second = await buildTransaction(context.server.services, campaign, affiliate);
      await rollUpToNow(context.server.services);
      const header = sampleHeader('transaction-id.txt');
      expect(header).toEqual(['Password', 'TransactionID', 'AP', 'MP', 'A']);
      const file = tabFile([
        header,
        [campaign.password!, String(first.id), '0.00', '0.00', 'no'],
        [campaign.password!, String(second.id), '12.50', '25.00', 'yes'],
      ]);

      const { upload, batch, status, contentType, results } = await uploadAndProcess(file);

      expect(upload).toMatchObject({
        filename: 'mods.txt',
        state: 'queued',
        records: 2,
        processed: 0,
        duplicateOf: null,
        format: 'tab',
        encoding: 'utf-8',
      });
      expect(batch).toMatchObject({ state: 'completed', records: 2, processed: 2, succeeded: 2, failed: 0 });
      expect(Date.parse(batch.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(batch.createdAt!));
      expect(status).toBe(200);
      expect(contentType).toBe('text/csv; charset=utf-8');
      expect(results).toEqual([
        {
          rowNumber: 1,
          succeeded: true,
          message: 'Succeeded',
          transactionId: String(first.id),
          clickId: '',
          merchantReferenceId: '',
          cid: '',
        },
        {
          rowNumber: 2,
          succeeded: true,
          message: 'Succeeded',
          transactionId: String(second.id),
          clickId: '',
          merchantReferenceId: '',
          cid: '',
        },
      ]);
      expect(await transaction(first.id)).toMatchObject({ affiliatePayout: 0n, merchantRevenue: 0n, approved: false });
      expect(await transaction(second.id)).toMatchObject({
        affiliatePayout: 125000n,
        merchantRevenue: 250000n,
        approved: true,
      });
      const [change] = await history(first.id);
      expect(change).toMatchObject({
        source: 'batch',
        identifier: 'transaction_id',
        requestId: `batch-${batch.id}-row-1`,
        clientIp: '127.0.0.1',
      });
    });

    it('applies a ClickID file (samples/click-id.txt)', async () => {
      const { campaign, transaction: target } = await buildScene(context.server.services);
      const header = sampleHeader('click-id.txt');
      expect(header).toEqual(['Password', 'ClickID', 'AP', 'MP', 'A']);
      const { batch, results } = await uploadAndProcess(
        tabFile([header, [campaign.password!, target.clickId, '1.25', '2.50', 'yes']]),
      );
      expect(batch).toMatchObject({ state: 'completed', succeeded: 1, failed: 0 });
      expect(results).toEqual([
        {
          rowNumber: 1,
          succeeded: true,
          message: 'Succeeded',
          transactionId: '',
          clickId: target.clickId,
          merchantReferenceId: '',
          cid: '',
        },
      ]);
      expect(await transaction(target.id)).toMatchObject({ affiliatePayout: 12500n, merchantRevenue: 25000n });
      expect((await history(target.id))[0].identifier).toBe('click_id');
    });

    it('applies a MerchantreferenceID + CID file (samples/merchant-reference.csv), executeaffiliatepixel included', async () => {
      const { campaign, transaction: target } = await buildScene(context.server.services);
      const header = sampleHeader('merchant-reference.csv');
      expect(header).toEqual(['Password', 'MerchantreferenceID', 'CID', 'AP', 'MP', 'A', 'executeaffiliatepixel']);
      const file = csvFile([
        header,
        [campaign.password!, target.merchantReferenceId!, String(campaign.id), '3.00', '6.00', 'no', 'No'],
      ]);
      const { batch, results } = await uploadAndProcess(file, { filename: 'mods.csv' }, 'text/csv');
      expect(batch).toMatchObject({ state: 'completed', succeeded: 1, format: 'csv' });
      expect(results).toEqual([
        {
          rowNumber: 1,
          succeeded: true,
          message: 'Succeeded',
          transactionId: '',
          clickId: '',
          merchantReferenceId: target.merchantReferenceId,
          cid: String(campaign.id),
        },
      ]);
      expect(await transaction(target.id)).toMatchObject({
        affiliatePayout: 30000n,
        merchantRevenue: 60000n,
        approved: false,
      });
      expect((await history(target.id))[0].identifier).toBe('merchant_reference');
    });
  });

  describe('encodings and line endings, through the upload', () => {
    const cases: Array<['utf-8' | 'utf-8-bom' | 'utf-16le' | 'windows-1252', string]> = [
      ['utf-8', '\n'],
      ['utf-8', '\r\n'],
      ['utf-8-bom', '\r\n'],
      ['utf-16le', '\r\n'],
      ['windows-1252', '\r\n'],
      ['windows-1252', '\r'],
    ];
    it.each(cases)('reads %s with %j line endings, accents intact', async (encoding, lineEnd) => {
      const { campaign, transaction: target } = await buildScene(context.server.services);
      const reason = 'Rückgabe – café';
      const text = tabFile(
        [['Password', 'TransactionID', 'AP', 'REASON'], [campaign.password!, String(target.id), '4.00', reason], []],
        lineEnd,
      );
      const { upload, batch, results } = await uploadAndProcess(encode(text, encoding), {}, 'application/octet-stream');
      expect(upload.encoding).toBe(encoding === 'utf-8-bom' ? 'utf-8' : encoding);
      expect(batch).toMatchObject({ records: 1, succeeded: 1, failed: 0 });
      expect(results.map((r) => r.message)).toEqual(['Succeeded']);
      expect((await history(target.id))[0].reason).toBe(reason);
    });
  });

  it('reads quoted fields: commas, doubled quotes and a line break inside a REASON', async () => {
    const { campaign, transaction: target } = await buildScene(context.server.services);
    const other = await buildTransaction(context.server.services, campaign, { id: target.affiliateId });
    await rollUpToNow(context.server.services);
    const reason = 'returned, "damaged"\nsecond line';
    const file = csvFile([
      ['Password', 'TransactionID', 'AP', 'REASON'],
      [campaign.password!, String(target.id), '1.00', reason],
      [campaign.password!, String(other.id), '2.00', 'plain'],
    ]);
    expect(file).toContain('"returned, ""damaged""\nsecond line"');
    const { batch, results } = await uploadAndProcess(file, { filename: 'quoted.csv' }, 'text/csv');
    expect(batch).toMatchObject({ records: 2, succeeded: 2 });
    expect(results.map((r) => [r.rowNumber, r.message])).toEqual([
      [1, 'Succeeded'],
      [2, 'Succeeded'],
    ]);
    expect((await history(target.id))[0].reason).toBe(reason);
    expect(await transaction(other.id)).toMatchObject({ affiliatePayout: 20000n });
  });

  it('answers every kind of bad row with the exact /transaction.edit message and carries on', async () => {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    const closed = await buildCampaign(context.server.services, { allowExternalModification: false });
    const lenient = await buildCampaign(context.server.services, { uniqueMerchantReference: false });
    const listedOnly = await buildCampaign(context.server.services, { whitelistOnly: true });
    const good = await buildTransaction(context.server.services, campaign, affiliate);
    const onClosed = await buildTransaction(context.server.services, closed, affiliate);
    const onLenient = await buildTransaction(context.server.services, lenient, affiliate);
    const onListedOnly = await buildTransaction(context.server.services, listedOnly, affiliate);
    const unrolled = await buildTransaction(context.server.services, campaign, affiliate, {
      occurredAt: Date.now() + 3_600_000,
    });
    const last = await buildTransaction(context.server.services, campaign, affiliate);
    await rollUpToNow(context.server.services);
    const pw = campaign.password!;
    const header = ['Password', 'TransactionID', 'ClickID', 'MerchantreferenceID', 'CID', 'AP', 'MP', 'A', 'REASON'];
    const rows = [
      [pw, String(good.id), '', '', '', 'abc', '', '', ''],
      [pw, String(good.id), good.clickId, '', '', '1.00', '', '', ''],
      [pw, '', '', '', '', '1.00', '', '', ''],
      [pw, '999999999999', '', '', '', '1.00', '', '', ''],
      [pw, '', '', 'ORDER-NOWHERE', '', '1.00', '', '', ''],
      [lenient.password!, '', '', onLenient.merchantReferenceId!, String(lenient.id), '1.00', '', '', ''],
      [closed.password!, String(onClosed.id), '', '', '', '1.00', '', '', ''],
      ['wrong-password', String(good.id), '', '', '', '1.00', '', '', ''],
      [listedOnly.password!, String(onListedOnly.id), '', '', '', '1.00', '', '', ''],
      [pw, String(unrolled.id), '', '', '', '1.00', '', '', ''],
      [pw, String(good.id), '', '', '', '1.00', '', 'maybe', ''],
      [pw, String(good.id), '', '', '', '1.00', '', '', '', 'stray'],
      [pw, String(last.id), '', '', '', '7.00', '', '', ''],
    ];
    const { batch, results } = await uploadAndProcess(tabFile([header, ...rows]));

    expect(batch).toMatchObject({ state: 'completed', records: 13, processed: 13, succeeded: 1, failed: 12 });
    expect(results.map((r) => [r.rowNumber, r.succeeded, r.message])).toEqual([
      [1, false, 'Permanent failure: Invalid parameter value for AP'],
      [2, false, 'Permanent failure: Multiple transaction identifiers provided'],
      [3, false, 'Permanent failure: Invalid transaction specified'],
      [4, false, 'Permanent failure: Invalid transaction specified'],
      [5, false, 'Permanent failure: Invalid parameter value for CID'],
      [6, false, 'Permanent failure: Invalid parameter value for Merchantreferenceid'],
      [7, false, 'Permanent failure: Campaign does not allow external transaction modification'],
      [8, false, 'Permanent failure: Invalid authentication credentials'],
      [9, false, 'Permanent failure: Invalid authentication credentials'],
      [10, false, 'Temporary failure: Hourly processing not completed'],
      [11, false, 'Permanent failure: Invalid parameter value for A'],
      [12, false, 'Permanent failure: Row has 1 more field than the header has columns'],
      [13, true, 'Succeeded'],
    ]);
    // The identifiers are echoed as supplied, like <SuppliedValues>.
    expect(byRow(results).get(2)).toMatchObject({ transactionId: String(good.id), clickId: good.clickId });
    expect(byRow(results).get(6)).toMatchObject({
      merchantReferenceId: onLenient.merchantReferenceId,
      cid: String(lenient.id),
    });
    expect(await history(good.id)).toHaveLength(0);
    expect(await transaction(last.id)).toMatchObject({ affiliatePayout: 70000n });
  });

  it('checks whitelist-only campaigns against the uploader, or the clientIp the admin names', async () => {
    const { campaign, transaction: target } = await buildScene(context.server.services, { whitelistOnly: true });
    await adminRequest(context.server.baseUrl, 'POST', '/whitelist', {
      address: '203.0.113.0/24',
      campaignId: campaign.id,
    });
    const file = tabFile([
      ['Password', 'TransactionID', 'AP'],
      [campaign.password!, String(target.id), '5.00'],
    ]);

    const refused = await uploadAndProcess(file);
    expect(refused.batch.clientIp).toBe('127.0.0.1');
    expect(refused.results.map((r) => r.message)).toEqual(['Permanent failure: Invalid authentication credentials']);

    const allowed = await uploadAndProcess(file, { clientIp: '203.0.113.9', force: 'true' });
    expect(allowed.batch).toMatchObject({ clientIp: '203.0.113.9', succeeded: 1 });
    expect((await history(target.id))[0].clientIp).toBe('203.0.113.9');
  });

  it('completes a file with only a header at once, with no records', async () => {
    const { status, body } = await uploadRaw(context.server.baseUrl, 'Password\tTransactionID\tAP\r\n\r\n', {
      filename: `header-${Date.now()}.txt`,
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({ state: 'completed', records: 0, processed: 0, succeeded: 0, failed: 0 });
    expect(body.finishedAt).not.toBeNull();
    const results = await fetchResults(context.server.baseUrl, body.id);
    expect(results.text).toBe('Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n');
  });

  it('refuses a binary file with 400 and the reason, storing nothing', async () => {
    const before = (await adminRequest(context.server.baseUrl, 'GET', '/batches?limit=1000')).body.length;
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x01,
    ]);
    const { status, body } = await uploadRaw(
      context.server.baseUrl,
      png,
      { filename: 'picture.png' },
      'application/octet-stream',
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 'unreadable_file',
        message: 'the file cannot be read: the file is not a text file (binary content)',
      },
    });
    expect((await adminRequest(context.server.baseUrl, 'GET', '/batches?limit=1000')).body).toHaveLength(before);
  });

  it('refuses a header with unknown columns, naming them', async () => {
    const { status, body } = await uploadRaw(
      context.server.baseUrl,
      'Password\tTransactionID\tAmount\tNotes\r\nx\t1\t2\t3\r\n',
      { filename: 'bad.txt' },
    );
    expect(status).toBe(400);
    expect(body.error.message).toBe('the file cannot be read: unknown column(s): Amount, Notes');
  });

  it('refuses an upload without a filename, a bad clientIp and a bad force', async () => {
    const file = 'Password\tTransactionID\r\nx\t1\r\n';
    expect((await uploadRaw(context.server.baseUrl, file, {})).body.error.message).toBe(
      'filename is required (?filename=NAME)',
    );
    expect((await uploadRaw(context.server.baseUrl, file, { filename: 'a.txt', clientIp: 'nobody' })).status).toBe(400);
    expect(
      (await uploadRaw(context.server.baseUrl, file, { filename: 'a.txt', force: 'yes please' })).body.error.message,
    ).toBe('force must be true or false');
  });

  it('flags the same content uploaded again as a duplicate and does not apply it, unless force=true', async () => {
    const { campaign, transaction: target } = await buildScene(context.server.services);
    const file = tabFile([
      ['Password', 'TransactionID', 'AP'],
      [campaign.password!, String(target.id), '9.00'],
    ]);
    const first = await uploadAndProcess(file, { filename: 'monday.txt' });
    expect(first.batch.duplicateOf).toBeNull();

    const again = await uploadRaw(context.server.baseUrl, file, { filename: 'monday-again.txt' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      state: 'completed',
      duplicateOf: first.batch.id,
      forced: false,
      records: 1,
      processed: 0,
      succeeded: 0,
      failed: 0,
    });
    await drainBatches(context.server.services);
    expect((await fetchBatch(context.server.baseUrl, again.body.id)).body).toMatchObject({
      state: 'completed',
      processed: 0,
    });
    expect((await fetchResults(context.server.baseUrl, again.body.id)).results).toEqual([]);
    expect(await history(target.id)).toHaveLength(1);

    const forced = await uploadAndProcess(file, { filename: 'monday-forced.txt', force: 'true' });
    expect(forced.upload).toMatchObject({ state: 'queued', duplicateOf: first.batch.id, forced: true });
    expect(forced.batch).toMatchObject({ state: 'completed', processed: 1, succeeded: 1 });
    expect(await history(target.id)).toHaveLength(2);
  });

  it('accepts multipart/form-data with the file in the "file" field', async () => {
    const { campaign, transaction: target } = await buildScene(context.server.services);
    const form = new FormData();
    const text = csvFile([
      ['Password', 'ClickID', 'MP'],
      [campaign.password!, target.clickId, '55.00'],
    ]);
    form.set('file', new Blob([encode(text, 'utf-16le')], { type: 'text/csv' }), 'from-console.csv');
    form.set('clientIp', '198.51.100.7');
    const response = await fetch(`${context.server.baseUrl}/api/v1/batches`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    const body = (await response.json()) as BatchBody;
    expect(response.status).toBe(202);
    expect(body).toMatchObject({
      filename: 'from-console.csv',
      state: 'queued',
      records: 1,
      encoding: 'utf-16le',
      clientIp: '198.51.100.7',
    });
    await drainBatches(context.server.services);
    expect((await fetchBatch(context.server.baseUrl, body.id)).body).toMatchObject({ succeeded: 1 });
    expect(await transaction(target.id)).toMatchObject({ merchantRevenue: 550000n });
  });

  it('refuses a multipart form without a "file" field', async () => {
    const form = new FormData();
    form.set('document', 'Password\tTransactionID\r\n');
    const response = await fetch(`${context.server.baseUrl}/api/v1/batches?filename=x.txt`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as BatchBody).error.message).toBe(
      'the multipart form needs a "file" field holding the file',
    );
  });

  it('quotes echoed values in the results CSV so that they read back unchanged', async () => {
    const { campaign } = await buildScene(context.server.services);
    const awkward = 'click,with "quotes"';
    const { text, results } = await uploadAndProcess(
      csvFile([
        ['Password', 'ClickID', 'AP'],
        [campaign.password!, awkward, '1.00'],
      ]),
      { filename: 'awkward.csv' },
      'text/csv',
    );
    expect(text.split('\r\n')[1]).toBe(
      '1,False,Permanent failure: Invalid transaction specified,,"click,with ""quotes""",,',
    );
    expect(results[0].clickId).toBe(awkward);
  });

  it('answers a row with a 100,000-character cell like /transaction.edit, echoing the first 16,000 characters', async () => {
    const { campaign } = await buildScene(context.server.services);
    const giant = 'k'.repeat(100_000);
    const { batch, results } = await uploadAndProcess(
      tabFile([
        ['Password', 'ClickID', 'REASON'],
        [campaign.password!, giant, 'r'.repeat(100_000)],
      ]),
    );
    expect(batch).toMatchObject({ state: 'completed', failed: 1 });
    expect(results[0].message).toBe('Permanent failure: Invalid parameter value for REASON');
    expect(results[0].clickId).toBe('k'.repeat(16_000));
  });

  it('lists batches newest first and answers 404 for an unknown batch', async () => {
    const { campaign } = await buildScene(context.server.services);
    const older = await uploadRaw(context.server.baseUrl, `Password\tTransactionID\r\n${campaign.password}\t1\r\n`, {
      filename: 'older.txt',
    });
    const newer = await uploadRaw(context.server.baseUrl, `Password\tTransactionID\r\n${campaign.password}\t2\r\n`, {
      filename: 'newer.txt',
    });
    const list = await adminRequest(context.server.baseUrl, 'GET', '/batches?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.map((b: { id: number }) => b.id)).toEqual([newer.body.id, older.body.id]);
    expect(Object.keys(list.body[0])).toEqual(
      expect.arrayContaining([
        'id',
        'filename',
        'state',
        'records',
        'processed',
        'succeeded',
        'failed',
        'createdAt',
        'finishedAt',
        'duplicateOf',
      ]),
    );
    const paged = await adminRequest(context.server.baseUrl, 'GET', `/batches?limit=1&before=${newer.body.id}`);
    expect(paged.body.map((b: { id: number }) => b.id)).toEqual([older.body.id]);
    expect((await fetchBatch(context.server.baseUrl, 987654321)).status).toBe(404);
    expect((await fetchResults(context.server.baseUrl, 987654321)).status).toBe(404);
    await drainBatches(context.server.services);
  });

  it('refuses a file larger than BATCH_MAX_FILE_MB with 413', async () => {
    const small = await startTestServer(context.database.db, { BATCH_MAX_FILE_MB: '1' });
    try {
      const big = 'Password\tTransactionID\tREASON\r\n' + `x\t1\t${'r'.repeat(200)}\r\n`.repeat(6000);
      const { status, body } = await uploadRaw(small.baseUrl, big, { filename: 'big.txt' });
      expect(status).toBe(413);
      expect(body.error.code).toBe('payload_too_large');
    } finally {
      await small.close();
    }
  });

  it('requires the admin token', async () => {
    const response = await fetch(`${context.server.baseUrl}/api/v1/batches?filename=a.txt`, {
      method: 'POST',
      body: 'Password\tTransactionID\r\n',
    });
    expect(response.status).toBe(401);
  });
});
