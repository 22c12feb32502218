import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postModificationFile, type PostFileOptions, type PostSummary } from '../../../src/batch/lead-poster/post-file';
import type { Services } from '../../../src/composition';
import { createTestDatabase, testEngines, TestDatabase } from '../../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../../support/factories';
import { startTestServer, TestServer } from '../../support/test-server';

const RESULTS_HEADER = 'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n';

/** A campaign (opted in, unique merchant references) with `count` rolled-up transactions. */
async function buildCampaignWith(
  services: Services,
  count: number,
  campaignFields: Parameters<typeof buildCampaign>[1] = {},
) {
  const affiliate = await buildAffiliate(services);
  const campaign = await buildCampaign(services, campaignFields);
  const transactions = [];
  for (let i = 0; i < count; i++) transactions.push(await buildTransaction(services, campaign, affiliate));
  await rollUpToNow(services);
  return { campaign, password: campaign.password as string, transactions };
}

describe.each(testEngines())('Lead Poster against txedit on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lead-poster-live-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeInput(name: string, lines: string[]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, lines.join('\r\n') + '\r\n');
    return file;
  }

  async function post(file: string, options: Partial<PostFileOptions> = {}): Promise<PostSummary> {
    const result = await postModificationFile({ file, url: server.baseUrl, sleep: async () => undefined, ...options });
    if (!result.ok) throw new Error(`refused: ${result.reason}`);
    return result.summary;
  }

  const historyOf = async (transactionId: number) =>
    server.services.stores.modifications.listForTransaction(transactionId);
  const transaction = async (id: number) => server.services.stores.transactions.getById(id);
  const resultsOf = (file: string) => fs.readFileSync(`${file}.results.csv`, 'utf8');

  it('applies a tab-delimited file by transaction id, each row once', async () => {
    const {
      password,
      transactions: [t1, t2, t3],
    } = await buildCampaignWith(server.services, 3);
    const file = writeInput('by-transaction-id.txt', [
      'Password\tTransactionID\tAP\tMP\tA',
      `${password}\t${t1.id}\t0.00\t0.00\tno`,
      `${password}\t${t2.id}\t12.50\t25.00\tyes`,
      `${password}\t${t3.id}\t\t99.9999\t`,
    ]);
    const summary = await post(file);

    expect(summary).toMatchObject({ total: 3, posted: 3, succeeded: 3, failed: 0, skipped: 0, allSucceeded: true });
    expect(resultsOf(file)).toBe(
      `${RESULTS_HEADER}1,True,Succeeded,${t1.id},,,\r\n2,True,Succeeded,${t2.id},,,\r\n3,True,Succeeded,${t3.id},,,\r\n`,
    );
    expect(await transaction(t1.id)).toMatchObject({ affiliatePayout: 0n, merchantRevenue: 0n, approved: false });
    expect(await transaction(t2.id)).toMatchObject({
      affiliatePayout: 125000n,
      merchantRevenue: 250000n,
      approved: true,
    });
    // Empty cells are not sent, so they change nothing.
    expect(await transaction(t3.id)).toMatchObject({
      affiliatePayout: 100000n,
      merchantRevenue: 999999n,
      approved: true,
    });
    for (const t of [t1, t2, t3]) expect(await historyOf(t.id)).toHaveLength(1);
  });

  it('applies a CSV by merchant reference and CID, quoted reasons included', async () => {
    const {
      campaign,
      password,
      transactions: [t1, t2],
    } = await buildCampaignWith(server.services, 2);
    const file = writeInput('by-merchant-reference.csv', [
      'Password,MerchantreferenceID,CID,AP,MP,A,REASON',
      `${password},${t1.merchantReferenceId},${campaign.id},1.25,2.50,no,"Refund, customer said ""damaged"""`,
      `${password},${t2.merchantReferenceId},${campaign.id},3,6,yes,chargeback reversed`,
    ]);
    const summary = await post(file);

    expect(summary).toMatchObject({ posted: 2, succeeded: 2, allSucceeded: true });
    expect(resultsOf(file)).toBe(
      `${RESULTS_HEADER}1,True,Succeeded,,,${t1.merchantReferenceId},${campaign.id}\r\n2,True,Succeeded,,,${t2.merchantReferenceId},${campaign.id}\r\n`,
    );
    expect(await transaction(t1.id)).toMatchObject({
      affiliatePayout: 12500n,
      merchantRevenue: 25000n,
      approved: false,
    });
    const [history] = await historyOf(t1.id);
    expect(history).toMatchObject({ identifier: 'merchant_reference', reason: 'Refund, customer said "damaged"' });
    expect(await transaction(t2.id)).toMatchObject({
      affiliatePayout: 30000n,
      merchantRevenue: 60000n,
      approved: true,
    });
  });

  it('records each refused row with the exact message /transaction.edit gives, and changes nothing', async () => {
    const {
      password,
      transactions: [t1, t2, t3],
    } = await buildCampaignWith(server.services, 3);
    const closed = await buildCampaignWith(server.services, 1, { allowExternalModification: false });
    const file = writeInput('refusals.txt', [
      'Password\tTransactionID\tClickID\tAP\tA',
      `wrong-password\t${t1.id}\t\t1.00\tno`,
      `${password}\t${t2.id}\t\t1,00\tno`,
      `${password}\t${t3.id}\t${t3.clickId}\t1.00\tno`,
      `${password}\t999999999\t\t1.00\tno`,
      `${closed.password}\t${closed.transactions[0].id}\t\t1.00\tno`,
      `${password}\t\t${t1.clickId}\t1.00\tmaybe`,
    ]);
    const summary = await post(file, { concurrency: 3 });

    expect(summary).toMatchObject({ posted: 6, succeeded: 0, failed: 6, allSucceeded: false });
    expect(resultsOf(file)).toBe(
      RESULTS_HEADER +
        `1,False,Permanent failure: Invalid authentication credentials,${t1.id},,,\r\n` +
        `2,False,Permanent failure: Invalid parameter value for AP,${t2.id},,,\r\n` +
        `3,False,Permanent failure: Multiple transaction identifiers provided,${t3.id},${t3.clickId},,\r\n` +
        `4,False,Permanent failure: Invalid transaction specified,999999999,,,\r\n` +
        `5,False,Permanent failure: Campaign does not allow external transaction modification,${closed.transactions[0].id},,,\r\n` +
        `6,False,Permanent failure: Invalid parameter value for A,,${t1.clickId},,\r\n`,
    );
    for (const t of [t1, t2, t3, closed.transactions[0]]) expect(await historyOf(t.id)).toHaveLength(0);
  });

  it('re-runs post only unfinished rows: temporary failures again, successes and permanent failures not', async () => {
    const processing = server.services.stores.processingState;
    const {
      password,
      transactions: [t1, t2, t3],
    } = await buildCampaignWith(server.services, 3);
    const lines = (t1Payout: string) => [
      'Password\tTransactionID\tAP\tA',
      `${password}\t${t1.id}\t${t1Payout}\tno`,
      `${password}\t${t2.id}\t2.00\tno`,
      `${password}\t${t3.id}\t3.00\tno`,
    ];
    // Row 1's payout is malformed (refused before anything else); nightly processing then refuses row 2
    // through its one retry and ends while row 3 waits for its retry.
    const file = writeInput('resume.txt', lines('1.0.0'));
    let waits = 0;
    await processing.update(server.services.stores.units.alone, { nightlyInProgress: true });
    try {
      const first = await post(file, {
        concurrency: 1,
        retries: 1,
        sleep: async () => {
          if (++waits === 2) await processing.update(server.services.stores.units.alone, { nightlyInProgress: false });
        },
      });
      expect(first).toMatchObject({ posted: 3, succeeded: 1, failed: 2 });
    } finally {
      await processing.update(server.services.stores.units.alone, { nightlyInProgress: false });
    }
    expect(resultsOf(file)).toBe(
      RESULTS_HEADER +
        `1,False,Permanent failure: Invalid parameter value for AP,${t1.id},,,\r\n` +
        `2,False,Temporary failure: Nightly processing in progress,${t2.id},,,\r\n` +
        `3,True,Succeeded,${t3.id},,,\r\n`,
    );

    // The merchant mends row 1 and runs the same command again.
    fs.writeFileSync(file, lines('1.00').join('\r\n') + '\r\n');
    const second = await post(file);
    expect(second).toMatchObject({
      posted: 1,
      succeeded: 1,
      failed: 0,
      skipped: 2,
      skippedFailures: 1,
      allSucceeded: false,
    });
    expect(await historyOf(t1.id)).toHaveLength(0);
    expect(await historyOf(t2.id)).toHaveLength(1);
    expect(await historyOf(t3.id)).toHaveLength(1);
    expect(resultsOf(file)).toBe(
      RESULTS_HEADER +
        `1,False,Permanent failure: Invalid parameter value for AP,${t1.id},,,\r\n` +
        `2,True,Succeeded,${t2.id},,,\r\n` +
        `3,True,Succeeded,${t3.id},,,\r\n`,
    );

    // Asked to, it posts the permanently failed row again; still nothing twice.
    const third = await post(file, { repostFailed: true });
    expect(third).toMatchObject({ posted: 1, succeeded: 1, skipped: 2, skippedFailures: 0, allSucceeded: true });
    expect(await transaction(t1.id)).toMatchObject({ affiliatePayout: 10000n, approved: false });
    for (const t of [t1, t2, t3]) expect(await historyOf(t.id)).toHaveLength(1);
  });
});
