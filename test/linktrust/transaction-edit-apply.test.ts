import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { documentOf, edit, encodePairs, expectUntouched, sendEdit, success } from './edit-request';

// What a successful request does to the database: exact amounts, one history row per success, and
// serialised concurrent edits.
describe.each(testEngines())('/transaction.edit applying changes on %s', (engine) => {
  const context = useTestServer(engine);

  /** The stored columns, read without the stores, as bigints. */
  async function storedAmounts(id: number) {
    const row = await context.database.db
      .knex('transactions')
      .where({ id })
      .first('affiliate_payout', 'merchant_revenue', 'approved');
    return {
      affiliatePayout: BigInt(row.affiliate_payout),
      merchantRevenue: BigInt(row.merchant_revenue),
      approved: Boolean(row.approved),
    };
  }

  it.each([
    ['0.1', '99999999.9999', 1000n, 999_999_999_999n],
    ['.5', '0', 5000n, 0n],
    ['0.0001', '12.5', 1n, 125_000n],
    ['99999999999.9999', '00012.3400', 999_999_999_999_999n, 123_400n],
  ])('stores AP=%s and MP=%s exactly, as ten-thousandths', async (ap, mp, payout, revenue) => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await edit(context.server.baseUrl, 'GET', [
      ['Password', campaign.password as string],
      ['Transactionid', String(transaction.id)],
      ['AP', ap],
      ['MP', mp],
    ]);
    expect(answer).toEqual(success({ TransactionId: String(transaction.id), AP: ap, MP: mp }));
    expect(await storedAmounts(transaction.id)).toEqual({
      affiliatePayout: payout,
      merchantRevenue: revenue,
      approved: true,
    });
  });

  it('records one exact history row for a success: identifier, values before and after, reason, client IP and request id', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await sendEdit(context.server.baseUrl, {
      query: encodePairs([
        ['Password', campaign.password as string],
        ['ClickID', transaction.clickId],
        ['MP', '80'],
        ['A', 'no'],
        ['REASON', 'Partial refund — order #12'],
      ]),
    });
    expect(documentOf(answer).succeeded).toBe('True');
    const updated = await context.server.services.stores.transactions.getById(transaction.id);
    expect(updated).toEqual({
      ...transaction,
      merchantRevenue: 800_000n,
      approved: false,
      modificationCount: 1,
      updatedAt: expect.any(Number),
    });
    expect(await context.server.services.stores.modifications.listForTransaction(transaction.id)).toEqual([
      {
        id: expect.any(Number),
        transactionId: transaction.id,
        identifier: 'click_id',
        source: 'api',
        before: { affiliatePayout: 100_000n, merchantRevenue: 1_000_000n, approved: true },
        after: { affiliatePayout: 100_000n, merchantRevenue: 800_000n, approved: false },
        reason: 'Partial refund — order #12',
        clientIp: '127.0.0.1',
        requestId: answer.headers.get('x-request-id'),
        postback: 'not_requested',
        createdAt: updated?.updatedAt,
        actor: null,
      },
    ]);
  });

  it('records a history row for a success that changes nothing', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await edit(context.server.baseUrl, 'POST', [
      ['Password', campaign.password as string],
      ['Transactionid', String(transaction.id)],
      ['AP', '10.00'],
      ['A', 'yes'],
    ]);
    expect(answer).toEqual(success({ TransactionId: String(transaction.id), AP: '10.00', A: 'yes' }));
    const history = await context.server.services.stores.modifications.listForTransaction(transaction.id);
    const unchanged = { affiliatePayout: 100_000n, merchantRevenue: 1_000_000n, approved: true };
    expect(history.map((row) => [row.before, row.after, row.reason])).toEqual([[unchanged, unchanged, null]]);
    expect(await storedAmounts(transaction.id)).toEqual(unchanged);
  });

  it('serialises 20 concurrent edits of one transaction: 20 history rows chained before to after, the last one final', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const edits = Array.from({ length: 20 }, (_, index) =>
      edit(context.server.baseUrl, index % 2 === 0 ? 'GET' : 'POST', [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', `${index + 1}.${String(index).padStart(4, '0')}`],
        ['MP', `${100 + index}`],
        ['A', index % 3 === 0 ? 'no' : 'yes'],
        ['REASON', `edit ${index}`],
      ]),
    );
    const answers = await Promise.all(edits);
    expect(answers.map((answer) => answer.succeeded)).toEqual(Array(20).fill('True'));

    const history = await context.server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history).toHaveLength(20);
    expect(history[0].before).toEqual({ affiliatePayout: 100_000n, merchantRevenue: 1_000_000n, approved: true });
    for (let index = 1; index < history.length; index++)
      expect(history[index].before).toEqual(history[index - 1].after);
    // Every request is in the history exactly once, each with the values it asked for.
    const expectedAfter = new Map(
      Array.from({ length: 20 }, (_, index) => [
        `edit ${index}`,
        {
          affiliatePayout: BigInt(index + 1) * 10_000n + BigInt(index),
          merchantRevenue: BigInt(100 + index) * 10_000n,
          approved: index % 3 !== 0,
        },
      ]),
    );
    expect(new Set(history.map((row) => row.reason)).size).toBe(20);
    for (const row of history) expect(row.after).toEqual(expectedAfter.get(row.reason as string));
    expect(await storedAmounts(transaction.id)).toEqual(history[19].after);
  });

  it('leaves no history row and no change after refused requests', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const refusals: Array<Array<[string, string]>> = [
      [
        ['Password', 'wrong'],
        ['Transactionid', String(transaction.id)],
        ['AP', '0'],
      ],
      [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '-1'],
      ],
      [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['ClickID', transaction.clickId],
        ['A', 'no'],
      ],
      [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['CID', String(campaign.id + 1)],
        ['MP', '0'],
      ],
      [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['REASON', 'r'.repeat(256)],
      ],
    ];
    for (const pairs of refusals) expect((await edit(context.server.baseUrl, 'POST', pairs)).succeeded).toBe('False');
    await expectUntouched(context.server.services, transaction);
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('answers %s with 405 and Allow: GET, POST, changing nothing', async (method) => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await sendEdit(context.server.baseUrl, {
      method,
      query: encodePairs([
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '0'],
      ]),
    });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, POST');
    await expectUntouched(context.server.services, transaction);
  });
});
