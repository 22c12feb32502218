import type { Services } from '../../src/composition';
import { parseMoney } from '../../src/core/money';
import type { Modification } from '../../src/store/modification-store';
import { HOUR_MS } from '../../src/core/hours';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, twoDaysAgo } from '../support/factories';
import { editByPost } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';
import { rollUpIncluding, statisticsMismatches } from '../faults/fault-helpers';
import { drainBatches, fetchBatch, fetchResults, tabFile, uploadRaw } from './batch-helpers';

const HEADER = ['Password', 'TransactionID', 'ClickID', 'CID', 'AP', 'MP', 'A', 'REASON'];
const ROWS = 50;
/** Rows naming the repeated transaction that apply, in file order (row 17 names it by click id). */
const REPEATED_APPLIED = [5, 7, 10, 14, 15, 17, 20, 21, 28, 30, 40, 42, 45, 49, 50];

/** What each row sets: AP n.00, MP 3n.50, approved unless n is a multiple of 3. */
const changesOf = (n: number) => [`${n}.00`, `${n * 3}.50`, n % 3 === 0 ? 'no' : 'yes'];
const valuesOf = (n: number) => ({
  affiliatePayout: parseMoney(`${n}.00`),
  merchantRevenue: parseMoney(`${n * 3}.50`),
  approved: n % 3 !== 0,
});

type Scene = Awaited<ReturnType<typeof buildFileScene>>;

/** One transaction named many times, others named a few times each, and what the failing rows need. */
async function buildFileScene(services: Services) {
  const affiliate = await buildAffiliate(services);
  const campaign = await buildCampaign(services);
  const closed = await buildCampaign(services, { allowExternalModification: false });
  const repeated = await buildTransaction(services, campaign, affiliate);
  const others = [];
  for (let k = 0; k < 6; k++)
    others.push(await buildTransaction(services, campaign, affiliate, { occurredAt: twoDaysAgo() - k * HOUR_MS }));
  const onClosed = await buildTransaction(services, closed, affiliate);
  const pending = await buildTransaction(services, campaign, affiliate, { occurredAt: Date.now() + HOUR_MS });
  return { campaign, closed, repeated, others, onClosed, pending };
}

/** The file's rows for a scene: the repeated transaction interleaved with the others, some rows failing. */
function rowsFor(scene: Scene): string[][] {
  const password = scene.campaign.password!;
  const row = (n: number, identifiers: [string, string, string], pw = password) => [
    pw,
    ...identifiers,
    ...changesOf(n),
    `row ${n}`,
  ];
  return Array.from({ length: ROWS }, (_, index) => {
    const n = index + 1;
    const repeatedId = String(scene.repeated.id);
    switch (n) {
      case 11:
        return row(n, ['999999999999', '', '']);
      case 17:
        return row(n, ['', scene.repeated.clickId, '']);
      case 23:
        return row(n, [String(scene.onClosed.id), '', ''], scene.closed.password!);
      case 25:
        return row(n, [repeatedId, '', ''], 'not-the-password');
      case 29:
        return row(n, [String(scene.pending.id), '', '']);
      case 35:
        return [password, repeatedId, '', '', 'abc', ...changesOf(n).slice(1), `row ${n}`];
      case 41:
        return row(n, [repeatedId, scene.repeated.clickId, '']);
      case 44:
        return row(n, [repeatedId, '', String(scene.closed.id)]);
    }
    if (n % 5 === 0 || n % 7 === 0) return row(n, [repeatedId, '', '']);
    return row(n, [String(scene.others[n % scene.others.length].id), '', '']);
  });
}

describe.each(testEngines())('a bulk file processed a chunk at a time on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const history = (transactionId: number) => services().stores.modifications.listForTransaction(transactionId);
  const changesIn = (rows: Modification[]) =>
    rows.map((row) => ({ before: row.before, after: row.after, reason: row.reason }));

  it('answers each row as /transaction.edit does and chains the history of a transaction named many times in file order', async () => {
    const inBatch = await buildFileScene(services());
    const byApi = await buildFileScene(services());
    await rollUpIncluding(services(), twoDaysAgo() - 6 * HOUR_MS);

    // The chunk goes through modifyMany: its applied rows' history is one multi-row insert.
    const historyInserts: string[] = [];
    const watch = (query: { sql: string }) =>
      void (/^\s*insert into modifications\b/i.test(query.sql) && historyInserts.push(query.sql));
    const uploaded = await uploadRaw(context.server.baseUrl, tabFile([HEADER, ...rowsFor(inBatch)]), {
      filename: 'repeated.txt',
    });
    expect(uploaded.status).toBe(202);
    services().db.knex.on('query', watch);
    try {
      await drainBatches(services());
    } finally {
      services().db.knex.off('query', watch);
    }
    expect(historyInserts).toHaveLength(1);

    const answers = [];
    for (const cells of rowsFor(byApi)) {
      const form = Object.fromEntries(
        HEADER.map((name, column) => [name, cells[column]]).filter(([, value]) => value !== ''),
      );
      const { answer } = await editByPost(context.server.baseUrl, form);
      answers.push(answer);
    }

    const { results } = await fetchResults(context.server.baseUrl, uploaded.body.id);
    expect(results.map((result) => [result.rowNumber, result.succeeded, result.message])).toEqual(
      answers.map((answer, index) => [
        index + 1,
        answer.succeeded === 'True',
        answer.succeeded === 'True' ? 'Succeeded' : answer.error?.message,
      ]),
    );
    expect(results.filter((result) => !result.succeeded).map((result) => [result.rowNumber, result.message])).toEqual([
      [11, 'Permanent failure: Invalid transaction specified'],
      [23, 'Permanent failure: Campaign does not allow external transaction modification'],
      [25, 'Permanent failure: Invalid authentication credentials'],
      [29, 'Temporary failure: Hourly processing not completed'],
      [35, 'Permanent failure: Invalid parameter value for AP'],
      [41, 'Permanent failure: Multiple transaction identifiers provided'],
      [44, 'Permanent failure: Invalid transaction specified'],
    ]);
    expect((await fetchBatch(context.server.baseUrl, uploaded.body.id)).body).toMatchObject({
      state: 'completed',
      processed: ROWS,
      succeeded: ROWS - 7,
      failed: 7,
    });

    const chain = await history(inBatch.repeated.id);
    expect(chain.map((row) => row.requestId)).toEqual(
      REPEATED_APPLIED.map((n) => `batch-${uploaded.body.id}-row-${n}`),
    );
    expect(chain.map((row) => row.after)).toEqual(REPEATED_APPLIED.map(valuesOf));
    expect(chain[0].before).toEqual({
      affiliatePayout: inBatch.repeated.affiliatePayout,
      merchantRevenue: inBatch.repeated.merchantRevenue,
      approved: inBatch.repeated.approved,
    });
    expect(chain.slice(1).map((row) => row.before)).toEqual(chain.slice(0, -1).map((row) => row.after));
    expect(await services().stores.transactions.getById(inBatch.repeated.id)).toMatchObject(valuesOf(50));

    // Every transaction of the file went through the same changes as by /transaction.edit, row by row.
    const pairs: Array<[number, number]> = [
      [inBatch.repeated.id, byApi.repeated.id],
      ...inBatch.others.map((other, k): [number, number] => [other.id, byApi.others[k].id]),
      [inBatch.onClosed.id, byApi.onClosed.id],
      [inBatch.pending.id, byApi.pending.id],
    ];
    for (const [batchId, apiId] of pairs)
      expect(changesIn(await history(batchId))).toEqual(changesIn(await history(apiId)));
    expect(await statisticsMismatches(services().db.knex)).toEqual([]);
  });
});
