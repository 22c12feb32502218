import crypto from 'node:crypto';
import type { RowModifier } from '../../src/batch/run-row';
import type { Services } from '../../src/composition';
import { ImpactApiWorker } from '../../src/impact-api/impact-api-worker';
import { testEngines } from '../support/databases';
import { freshId, rollUpToNow } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { statisticsMismatches } from '../faults/fault-helpers';
import { createAccount, impactCall, impactScene } from './impact-api-helpers';

type Account = { accountSid: string; authToken: string };

/** The core with impact's rules, counting how the worker called it (one unit per modifyMany call). */
function countingCore(services: Services, beforeMany?: () => Promise<void>) {
  const calls = { modify: 0, modifyMany: [] as number[] };
  const modifications: RowModifier = {
    modify: (command, options) => {
      calls.modify += 1;
      return services.impact.modify(command, options);
    },
    modifyMany: async (commands, options) => {
      calls.modifyMany.push(commands.length);
      await beforeMany?.();
      return services.impact.modifyMany(commands, options);
    },
  };
  return { calls, modifications };
}

/** A worker over the server's stores and the given core; `unitSize: 1` is the old path, one unit per submission. */
function workerOf(services: Services, modifications: RowModifier, unitSize?: number) {
  return new ImpactApiWorker(
    {
      submissions: services.stores.apiSubmissions,
      accounts: services.stores.apiAccounts,
      modifications,
      accountCurrency: services.config.batches.accountCurrency,
      logger: services.logger,
    },
    { unitSize },
  );
}

describe.each(testEngines())('impact.com API submissions applied a chunk per unit of work on %s', (engine) => {
  const context = useTestServer(engine);
  const base = () => context.server.baseUrl;
  const services = () => context.server.services;
  const knex = () => services().db.knex;

  /** Queues a call and answers its submission's public id. */
  const queue = async (account: Account, method: 'PUT' | 'DELETE', json: Record<string, string>) => {
    const answer = await impactCall(base(), method, `/Advertisers/${account.accountSid}/Actions`, { account, json });
    expect(answer.status).toBe(200);
    return String(answer.body.QueuedUri).split('/').pop() as string;
  };
  /** A submission stored as an older version might have stored it, with an Amount the worker finds MALFORMED. */
  const queueMalformed = async (account: Account, actionId: string) => {
    const { id } = await knex()('api_accounts').where({ account_sid: account.accountSid }).first();
    const submission = await services().stores.apiSubmissions.insert({
      publicId: `A-${crypto.randomUUID()}`,
      accountId: Number(id),
      type: 'Modification',
      parameters: [
        { name: 'ActionId', value: actionId },
        { name: 'Amount', value: 'twelve' },
      ],
      actionId,
      submittedAt: Date.now(),
      idempotencyKeySha256: null,
      fingerprint: null,
    });
    return submission.publicId;
  };
  const stored = async (publicIds: string[]) => {
    const rows = await knex()('api_submissions').whereIn('public_id', publicIds);
    return publicIds.map((publicId) => rows.find((row: any) => row.public_id === publicId));
  };
  const historyOf = async (transactionId: number) =>
    knex()('modifications').where({ transaction_id: transactionId }).orderBy('id');
  /** A stored amount in minor units, exactly (as the column holds it). */
  const amount = (value: unknown) => String(value);

  /**
   * The burst: amount changes, a reversal and changes after it on one action, an unchanged amount, one by
   * OrderId, a MALFORMED one, an unknown action and another account's campaign's action.
   */
  async function burst(account: Account, foreignActionId: string, action: () => Promise<any>, eventTypeId: number) {
    const [x1, x2, x3] = [await action(), await action(), await action()];
    const order = { OrderId: x3.merchantReferenceId, ActionTrackerId: String(eventTypeId) };
    const ids = [
      await queue(account, 'PUT', { ActionId: x1.actionId, Amount: '80.00' }),
      await queue(account, 'PUT', { ActionId: x2.actionId, Amount: '55.50' }),
      await queueMalformed(account, x1.actionId),
      await queue(account, 'PUT', { ActionId: x1.actionId, Amount: '70.00' }),
      await queue(account, 'PUT', { ActionId: `1000.${freshId()}`, Amount: '10.00' }),
      await queue(account, 'PUT', { ActionId: foreignActionId, Amount: '50.00' }),
      await queue(account, 'PUT', { ...order, Amount: '40.00' }),
      await queue(account, 'DELETE', { ActionId: x1.actionId }),
      await queue(account, 'PUT', { ActionId: x1.actionId, Amount: '60.00' }),
      await queue(account, 'PUT', { ActionId: x2.actionId, Amount: '55.50' }),
      await queue(account, 'PUT', { ActionId: x2.actionId, Amount: '30.00' }),
      await queue(account, 'DELETE', order),
    ];
    return { ids, actions: [x1, x2, x3] };
  }

  const CODES = [
    'MODIFIED',
    'MODIFIED',
    'MALFORMED',
    'MODIFIED',
    'ACTION_NOT_FOUND',
    'ACTION_NOT_FOUND',
    'MODIFIED',
    'REVERSED',
    'ALREADY_REVERSED',
    'NO_CHANGE',
    'MODIFIED',
    'REVERSED',
  ];

  it('complete each submission with the code one by one gives, in one unit, histories chained in submission order', async () => {
    const mine = await impactScene(services(), base());
    const theirs = await impactScene(services(), base());
    const account = await createAccount(base(), [mine.campaign.id]);
    await createAccount(base(), [theirs.campaign.id], 'Their client');
    const foreign = await theirs.action();
    await rollUpToNow(services());

    // A twin burst applied by the old path (a unit per submission), then the burst by the new one.
    const twin = await burst(account, foreign.actionId, mine.action, mine.eventTypeId);
    const old = countingCore(services());
    expect(await workerOf(services(), old.modifications, 1).drain()).toBe(CODES.length);
    expect(old.calls.modifyMany).toEqual([]);
    const chunk = await burst(account, foreign.actionId, mine.action, mine.eventTypeId);
    const core = countingCore(services());
    expect(await workerOf(services(), core.modifications).drain()).toBe(CODES.length);

    // One unit for the 11 commands (the MALFORMED one never reaches the core), none alone.
    expect(core.calls.modifyMany).toEqual([CODES.length - 1]);
    expect(core.calls.modify).toBe(0);
    const twinRows = await stored(twin.ids);
    const rows = await stored(chunk.ids);
    expect(twinRows.map((row) => [row.status, row.code])).toEqual(CODES.map((code) => ['COMPLETE', code]));
    expect(rows.map((row) => [row.status, row.code, row.message])).toEqual(
      twinRows.map((row) => ['COMPLETE', row.code, row.message]),
    );

    // Each action: the same values as its twin, one history row per applied submission in submission
    // order, each starting where the one before ended; the chunk's rows written at one time (one unit).
    const applied = (index: number) => rows[index].code === 'MODIFIED' || rows[index].code === 'REVERSED';
    const createdAt = new Set<string>();
    for (const [n, action] of chunk.actions.entries()) {
      const twinAction = twin.actions[n];
      const [after, twinAfter] = [
        await knex()('transactions').where({ id: action.id }).first(),
        await knex()('transactions').where({ id: twinAction.id }).first(),
      ];
      expect([after.merchant_revenue, after.affiliate_payout, after.state]).toEqual([
        twinAfter.merchant_revenue,
        twinAfter.affiliate_payout,
        twinAfter.state,
      ]);
      const history = await historyOf(action.id);
      const twinHistory = await historyOf(twinAction.id);
      expect(history.map((h: any) => amount(h.after_merchant_revenue))).toEqual(
        twinHistory.map((h: any) => amount(h.after_merchant_revenue)),
      );
      const mineApplied = chunk.ids.filter((_, index) => applied(index) && rows[index].action_id === action.actionId);
      expect(history.map((h: any) => h.request_id)).toEqual(mineApplied.map((publicId) => `api-${publicId}`));
      history.forEach((h: any, index: number) => {
        createdAt.add(String(h.created_at));
        if (index === 0) expect(amount(h.before_merchant_revenue)).toBe('1000000');
        else expect(amount(h.before_merchant_revenue)).toBe(amount(history[index - 1].after_merchant_revenue));
      });
    }
    expect(createdAt.size).toBe(1);
    expect((await historyOf(foreign.id)).length).toBe(0);
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it('fall back to one by one when an hour is not rolled up: those submissions wait, the others complete', async () => {
    const { campaign, action } = await impactScene(services(), base());
    const account = await createAccount(base(), [campaign.id]);
    const [a1, a2] = [await action(), await action()];
    await rollUpToNow(services());
    // This hour is not rolled up (it is not over): its action waits for the roll-up.
    const pending = await action({ occurredAt: new Date().toISOString() });
    const ids = [
      await queue(account, 'PUT', { ActionId: a1.actionId, Amount: '81.00' }),
      await queue(account, 'PUT', { ActionId: pending.actionId, Amount: '82.00' }),
      await queue(account, 'PUT', { ActionId: a2.actionId, Amount: '83.00' }),
      await queue(account, 'PUT', { ActionId: pending.actionId, Amount: '84.00' }),
      await queue(account, 'PUT', { ActionId: a1.actionId, Amount: '85.00' }),
    ];
    const core = countingCore(services());
    expect(await workerOf(services(), core.modifications).drain()).toBe(3);

    const rows = await stored(ids);
    expect(rows.map((row) => [row.status, row.code])).toEqual([
      ['COMPLETE', 'MODIFIED'],
      ['IN_PROGRESS', null],
      ['COMPLETE', 'MODIFIED'],
      ['IN_PROGRESS', null],
      ['COMPLETE', 'MODIFIED'],
    ]);
    // The first round's unit applied the others; the waiting ones went one by one (and wait), every round.
    expect(core.calls.modifyMany[0]).toBe(5);
    expect(core.calls.modify).toBeGreaterThan(0);
    expect((await historyOf(pending.id)).length).toBe(0);
    expect((await historyOf(a1.id)).map((h: any) => amount(h.after_merchant_revenue))).toEqual(['810000', '850000']);
    expect((await historyOf(a2.id)).map((h: any) => amount(h.after_merchant_revenue))).toEqual(['830000']);
    expect(await statisticsMismatches(knex())).toEqual([]);
    // Out of the way of the next tests (the hour is over only in an hour).
    const waiting = [rows[1], rows[3]].map((row) => ({
      id: Number(row.id),
      result: { code: 'TEST_DONE', message: 'set aside', actionId: pending.actionId, completedAt: Date.now() },
    }));
    expect(await services().stores.apiSubmissions.completeMany(waiting)).toBe(2);
  });

  it('apply nothing twice when another worker completed one of the chunk meanwhile', async () => {
    const { campaign, action } = await impactScene(services(), base());
    const account = await createAccount(base(), [campaign.id]);
    const [a1, a2] = [await action(), await action()];
    await rollUpToNow(services());
    const ids = [
      await queue(account, 'PUT', { ActionId: a1.actionId, Amount: '91.00' }),
      await queue(account, 'PUT', { ActionId: a2.actionId, Amount: '92.00' }),
      await queue(account, 'PUT', { ActionId: a1.actionId, Amount: '93.00' }),
    ];
    // As another worker would: the second one completed just before the chunk's unit runs.
    const [, taken] = await stored(ids);
    let first = true;
    const core = countingCore(services(), async () => {
      if (!first) return;
      first = false;
      await services().stores.apiSubmissions.complete(Number(taken.id), {
        code: 'MODIFIED',
        message: 'by the other worker',
        actionId: a2.actionId,
        completedAt: Date.now(),
      });
    });
    expect(await workerOf(services(), core.modifications).drain()).toBe(3);

    // The unit was rolled back; one by one applied the others once, and not the one already complete.
    expect(core.calls.modifyMany).toEqual([3]);
    expect(core.calls.modify).toBe(3);
    const rows = await stored(ids);
    expect(rows.map((row) => [row.status, row.code, row.message === 'by the other worker'])).toEqual([
      ['COMPLETE', 'MODIFIED', false],
      ['COMPLETE', 'MODIFIED', true],
      ['COMPLETE', 'MODIFIED', false],
    ]);
    expect((await historyOf(a1.id)).map((h: any) => h.request_id)).toEqual([`api-${ids[0]}`, `api-${ids[2]}`]);
    expect(await historyOf(a2.id)).toEqual([]);
    expect(await statisticsMismatches(knex())).toEqual([]);
  });
});
