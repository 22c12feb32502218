import crypto from 'node:crypto';
import { createServices, type Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { ModificationCommand, RequestedChanges, TransactionIdentifier } from '../../src/modification/command';
import { ModificationService } from '../../src/modification/modification-service';
import { LinkTrustRules } from '../../src/linktrust/linktrust-rules';
import { parseMoney } from '../../src/core/money';
import { describeOutcome, type Outcome } from '../../src/modification/outcome';
import { TransactionalPostbackOutbox } from '../../src/postbacks/postback-outbox';
import { type ProcessingState, ProcessingStateStore } from '../../src/store/processing-state-store';
import type { Sql, Statement } from '../../src/store/sql';
import { HOUR_MS, hourStart } from '../../src/core/hours';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, freshId, twoDaysAgo } from '../support/factories';
import { rollUpIncluding, statisticsMismatches } from '../faults/fault-helpers';
import { historyRowOf, statisticsTotalsOf, writtenState as writtenStateOf } from '../support/written-state';

/** The clock every change of this file is stamped with, so that outcomes of `modify` and `modifyMany` compare whole. */
const NOW = Date.now();
const money = (text: string) => parseMoney(text) as bigint;
const runId = crypto.randomBytes(4).toString('hex');
let requests = 0;

/** A batch command (the source modifyMany serves) with a request id of its own. */
function command(
  identifier: TransactionIdentifier,
  password: string | null,
  changes: RequestedChanges,
  extra: Partial<ModificationCommand> = {},
): ModificationCommand {
  return {
    identifier,
    changes,
    password,
    reason: null,
    executeAffiliatePixel: false,
    clientIp: '203.0.113.7',
    requestId: `modify-many-${runId}-${++requests}`,
    source: 'batch',
    ...extra,
  };
}
const byId = (transaction: { id: number }) =>
  ({ kind: 'transaction_id', transactionId: transaction.id, campaignId: null }) as const;

/** Nightly processing starting after the pre-checks and before the writer takes its locks. */
class NightlyStartsBeforeLocks extends ProcessingStateStore {
  override readForModificationStatement(): Statement<ProcessingState> {
    const statement = super.readForModificationStatement();
    return { ...statement, read: (result) => ({ ...statement.read(result), nightlyInProgress: true }) };
  }
}

describe.each(testEngines())('ModificationService.modifyMany on %s', (engine) => {
  let database: TestDatabase;
  let services: Services;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      BCRYPT_COST: '4',
      RATE_LIMIT_IP_FAILURES: '0',
      RATE_LIMIT_CAMPAIGN_FAILURES: '0',
    });
    services = createServices(config, database.db, createLogger('silent'), { now: () => NOW });
  });
  afterAll(async () => {
    await services?.postbackDispatcher.close();
    await services?.limiter.close();
    await database?.drop();
  });

  const core = () => services.modifications;
  const knex = () => services.db.knex;
  const history = (transactionId: number) => services.stores.modifications.listForTransaction(transactionId);
  const transaction = async (id: number) => (await services.stores.transactions.getById(id))!;
  const values = (affiliatePayout: string, merchantRevenue: string, approved: boolean) => ({
    affiliatePayout: money(affiliatePayout),
    merchantRevenue: money(merchantRevenue),
    approved,
  });

  const rowOf = (transactionId: number, requestId: string) => historyRowOf(services, transactionId, requestId);
  const writtenState = (transactionIds: number[]) => writtenStateOf(knex(), transactionIds);

  /** Hourly statistics rows of the campaigns, keyed `hour/campaign/affiliate`, money as bigint. */
  async function statisticsOf(campaignIds: number[]) {
    const rows = await knex()('hourly_statistics').whereIn('campaign_id', campaignIds);
    return Object.fromEntries(
      rows.map((row: Record<string, number | string>) => [
        `${row.hour_start}/${row.campaign_id}/${row.affiliate_id}`,
        statisticsTotalsOf(row),
      ]),
    );
  }
  const key = (hour: number, campaign: { id: number }, affiliate: { id: number }) =>
    `${hour}/${campaign.id}/${affiliate.id}`;
  const totals = (
    transactions: number,
    approvedTransactions: number,
    payout: string,
    revenue: string,
    approvedPayout: string,
    approvedRevenue: string,
  ) => ({
    transactions,
    approvedTransactions,
    affiliatePayout: money(payout),
    merchantRevenue: money(revenue),
    approvedAffiliatePayout: money(approvedPayout),
    approvedMerchantRevenue: money(approvedRevenue),
  });

  it('answers every command exactly as modify does: applied, unknown id, bad password, closed campaign, pending hour, lenient merchant reference, click id', async () => {
    const affiliate = await buildAffiliate(services);
    const campaign = await buildCampaign(services);
    const closed = await buildCampaign(services, { allowExternalModification: false });
    const lenient = await buildCampaign(services, { uniqueMerchantReference: false });
    const byTransactionId = await buildTransaction(services, campaign, affiliate);
    const byClickId = await buildTransaction(services, campaign, affiliate);
    const wrongPassword = await buildTransaction(services, campaign, affiliate);
    const onClosed = await buildTransaction(services, closed, affiliate);
    const onLenient = await buildTransaction(services, lenient, affiliate);
    const pending = await buildTransaction(services, campaign, affiliate, { occurredAt: Date.now() + HOUR_MS });
    await rollUpIncluding(services, byTransactionId.occurredAt);
    const untouched = [wrongPassword, onClosed, onLenient, pending];

    const commands = [
      command(byId(byTransactionId), campaign.password, values('1.00', '2.00', false), { reason: 'by id' }),
      command(byId({ id: freshId() }), campaign.password, values('1.00', '2.00', false)),
      command(byId(wrongPassword), 'not-the-password', values('1.00', '2.00', false)),
      command(byId(onClosed), closed.password, values('1.00', '2.00', false)),
      command(byId(pending), campaign.password, values('1.00', '2.00', false)),
      command(
        { kind: 'merchant_reference', merchantReferenceId: onLenient.merchantReferenceId!, campaignId: lenient.id },
        lenient.password,
        values('1.00', '2.00', false),
      ),
      command(
        { kind: 'click_id', clickId: byClickId.clickId, campaignId: null },
        campaign.password,
        { affiliatePayout: money('7.25') },
        { reason: 'by click' },
      ),
    ];
    const applied: number[][] = [];
    const outcomes = await core().modifyMany(commands, {
      concurrency: 3,
      afterApply: async (_sql, indexes) => void applied.push(indexes),
    });

    const first = await rowOf(byTransactionId.id, commands[0].requestId);
    const last = await rowOf(byClickId.id, commands[6].requestId);
    expect(outcomes).toEqual([
      {
        kind: 'applied',
        transaction: { ...byTransactionId, ...values('1.00', '2.00', false), modificationCount: 1, updatedAt: NOW },
        modificationId: first.id,
      },
      { kind: 'invalid_transaction' },
      { kind: 'unauthorized' },
      { kind: 'campaign_closed' },
      { kind: 'hourly_pending' },
      { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' },
      {
        kind: 'applied',
        transaction: { ...byClickId, affiliatePayout: money('7.25'), modificationCount: 1, updatedAt: NOW },
        modificationId: last.id,
      },
    ]);
    expect(
      outcomes!.slice(1, 6).map((outcome) => describeOutcome(outcome as Exclude<Outcome, { kind: 'applied' }>)),
    ).toEqual([
      { type: 'permanent', message: 'Permanent failure: Invalid transaction specified' },
      { type: 'permanent', message: 'Permanent failure: Invalid authentication credentials' },
      { type: 'permanent', message: 'Permanent failure: Campaign does not allow external transaction modification' },
      { type: 'temporary', message: 'Temporary failure: Hourly processing not completed' },
      { type: 'permanent', message: 'Permanent failure: Invalid parameter value for Merchantreferenceid' },
    ]);
    expect(applied).toEqual([[0, 6]]);
    expect(first).toEqual({
      id: first.id,
      transactionId: byTransactionId.id,
      identifier: 'transaction_id',
      source: 'batch',
      before: values('10.00', '100.00', true),
      after: values('1.00', '2.00', false),
      reason: 'by id',
      clientIp: '203.0.113.7',
      requestId: commands[0].requestId,
      postback: 'not_requested',
      createdAt: NOW,
      actor: null,
    });
    expect(last).toMatchObject({
      identifier: 'click_id',
      before: values('10.00', '100.00', true),
      after: values('7.25', '100.00', true),
      reason: 'by click',
    });
    for (const refused of untouched) {
      expect(await transaction(refused.id)).toEqual(refused);
      expect(await history(refused.id)).toEqual([]);
    }

    // modify, one command at a time: the same refusals, and the same applied transaction (a new history row).
    for (const [index, outcome] of outcomes!.entries()) {
      if (outcome.kind !== 'applied') {
        expect(await core().modify(commands[index])).toEqual(outcome);
        continue;
      }
      const again = { ...commands[index], requestId: `${commands[index].requestId}-again` };
      const single = await core().modify(again);
      expect(single).toEqual({
        ...outcome,
        // One more change of the same transaction: one more modification.
        transaction: { ...outcome.transaction, modificationCount: outcome.transaction.modificationCount + 1 },
        modificationId: (await rowOf(outcome.transaction.id, again.requestId)).id,
      });
    }
  });

  it('changes a transaction named three times in order: chained history, last values kept, statistics moved once by the total', async () => {
    const campaign = await buildCampaign(services);
    const affiliate = await buildAffiliate(services);
    const otherAffiliate = await buildAffiliate(services);
    const target = await buildTransaction(services, campaign, affiliate, {
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
      approved: true,
    });
    const other = await buildTransaction(services, campaign, otherAffiliate, {
      affiliatePayout: '5.00',
      merchantRevenue: '50.00',
      approved: true,
    });
    await rollUpIncluding(services, target.occurredAt);
    const hour = hourStart(target.occurredAt);
    expect(await statisticsOf([campaign.id])).toEqual({
      [key(hour, campaign, affiliate)]: totals(1, 1, '10.00', '100.00', '10.00', '100.00'),
      [key(hour, campaign, otherAffiliate)]: totals(1, 1, '5.00', '50.00', '5.00', '50.00'),
    });

    const commands = [
      command(byId(target), campaign.password, { affiliatePayout: money('1.00') }, { reason: 'step 1' }),
      command(byId(other), campaign.password, { affiliatePayout: money('7.50') }),
      command(byId(target), campaign.password, { merchantRevenue: money('2.00') }, { reason: 'step 2' }),
      command(
        { kind: 'click_id', clickId: target.clickId, campaignId: null },
        campaign.password,
        { approved: false },
        { reason: 'step 3' },
      ),
    ];
    const outcomes = await core().modifyMany(commands, { concurrency: 4 });

    const rows = await history(target.id);
    expect(rows.map((row) => [row.requestId, row.reason])).toEqual([
      [commands[0].requestId, 'step 1'],
      [commands[2].requestId, 'step 2'],
      [commands[3].requestId, 'step 3'],
    ]);
    expect(rows.map((row) => [row.before, row.after])).toEqual([
      [values('10.00', '100.00', true), values('1.00', '100.00', true)],
      [values('1.00', '100.00', true), values('1.00', '2.00', true)],
      [values('1.00', '2.00', true), values('1.00', '2.00', false)],
    ]);
    expect(await transaction(target.id)).toEqual({
      ...target,
      ...values('1.00', '2.00', false),
      modificationCount: 3,
      updatedAt: NOW,
    });
    expect(outcomes).toEqual([
      {
        kind: 'applied',
        transaction: { ...target, ...rows[0].after, modificationCount: 1, updatedAt: NOW },
        modificationId: rows[0].id,
      },
      {
        kind: 'applied',
        transaction: { ...other, ...values('7.50', '50.00', true), modificationCount: 1, updatedAt: NOW },
        modificationId: (await rowOf(other.id, commands[1].requestId)).id,
      },
      {
        kind: 'applied',
        transaction: { ...target, ...rows[1].after, modificationCount: 2, updatedAt: NOW },
        modificationId: rows[1].id,
      },
      {
        kind: 'applied',
        transaction: { ...target, ...rows[2].after, modificationCount: 3, updatedAt: NOW },
        modificationId: rows[2].id,
      },
    ]);
    expect(await statisticsOf([campaign.id])).toEqual({
      [key(hour, campaign, affiliate)]: totals(1, 0, '1.00', '2.00', '0.00', '0.00'),
      [key(hour, campaign, otherAffiliate)]: totals(1, 1, '7.50', '50.00', '7.50', '50.00'),
    });
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it('adds to the statistics of each (hour, campaign, affiliate) exactly, across two campaigns, affiliates and hours', async () => {
    const [first, second] = [await buildCampaign(services), await buildCampaign(services)];
    const [one, two] = [await buildAffiliate(services), await buildAffiliate(services)];
    const late = hourStart(twoDaysAgo());
    const early = late - HOUR_MS;
    const at = (hour: number, minute: number) => ({ occurredAt: hour + minute * 60_000 });
    const a = await buildTransaction(services, first, one, {
      ...at(late, 10),
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
      approved: true,
    });
    const b = await buildTransaction(services, first, one, {
      ...at(late, 20),
      affiliatePayout: '20.00',
      merchantRevenue: '200.00',
      approved: false,
    });
    const c = await buildTransaction(services, first, two, {
      ...at(late, 30),
      affiliatePayout: '3.00',
      merchantRevenue: '30.00',
      approved: true,
    });
    const d = await buildTransaction(services, second, one, {
      ...at(early, 5),
      affiliatePayout: '1.00',
      merchantRevenue: '10.00',
      approved: true,
    });
    const e = await buildTransaction(services, second, two, {
      ...at(early, 50),
      affiliatePayout: '2.00',
      merchantRevenue: '20.00',
      approved: false,
    });
    const f = await buildTransaction(services, first, one, {
      ...at(early, 15),
      affiliatePayout: '6.00',
      merchantRevenue: '60.00',
      approved: true,
    });
    await rollUpIncluding(services, early);

    const outcomes = await core().modifyMany(
      [
        command(byId(a), first.password, values('4.00', '40.00', false)),
        command(byId(d), second.password, { affiliatePayout: money('0.01') }),
        command(byId(b), first.password, { approved: true }),
        command(byId(e), second.password, values('2.50', '25.00', false)),
        command(byId(c), first.password, { merchantRevenue: money('33.33') }),
        command(byId(f), first.password, { approved: false }),
      ],
      { concurrency: 2 },
    );

    expect(outcomes!.map((outcome) => outcome.kind)).toEqual(Array(6).fill('applied'));
    expect(await statisticsOf([first.id, second.id])).toEqual({
      [key(late, first, one)]: totals(2, 1, '24.00', '240.00', '20.00', '200.00'),
      [key(late, first, two)]: totals(1, 1, '3.00', '33.33', '3.00', '33.33'),
      [key(early, first, one)]: totals(1, 0, '6.00', '60.00', '0.00', '0.00'),
      [key(early, second, one)]: totals(1, 1, '0.01', '10.00', '0.01', '10.00'),
      [key(early, second, two)]: totals(1, 0, '2.50', '25.00', '0.00', '0.00'),
    });
    expect(await statisticsMismatches(knex())).toEqual([]);
  });

  it("queues a postback only for an affiliate with a URL, each delivery naming its own change's history row", async () => {
    const campaign = await buildCampaign(services);
    const withUrl = await buildAffiliate(services, {
      postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]&ap=[=AffiliateCommission=]',
    });
    const withoutUrl = await buildAffiliate(services);
    const twice = await buildTransaction(services, campaign, withUrl);
    const noUrl = await buildTransaction(services, campaign, withoutUrl);
    const notAsked = await buildTransaction(services, campaign, withUrl);
    await rollUpIncluding(services, twice.occurredAt);

    const pixel = { executeAffiliatePixel: true };
    const commands = [
      command(byId(twice), campaign.password, { affiliatePayout: money('1.00') }, pixel),
      command(byId(noUrl), campaign.password, { affiliatePayout: money('2.00') }, pixel),
      command(byId(notAsked), campaign.password, { affiliatePayout: money('3.00') }),
      command(byId(twice), campaign.password, { affiliatePayout: money('4.00') }, pixel),
    ];
    const outcomes = await core().modifyMany(commands, { concurrency: 4 });

    const [firstChange, secondChange] = await history(twice.id);
    const [noUrlChange] = await history(noUrl.id);
    const [notAskedChange] = await history(notAsked.id);
    expect(
      [firstChange, noUrlChange, notAskedChange, secondChange].map((row) => [row.requestId, row.postback]),
    ).toEqual([
      [commands[0].requestId, 'queued'],
      [commands[1].requestId, 'no_postback_url'],
      [commands[2].requestId, 'not_requested'],
      [commands[3].requestId, 'queued'],
    ]);
    expect(outcomes!.map((outcome) => outcome.kind === 'applied' && outcome.modificationId)).toEqual([
      firstChange.id,
      noUrlChange.id,
      notAskedChange.id,
      secondChange.id,
    ]);
    const deliveries = await knex()('postback_deliveries')
      .whereIn('transaction_id', [twice.id, noUrl.id, notAsked.id])
      .orderBy('id');
    expect(
      deliveries.map((row: Record<string, unknown>) => [
        Number(row.transaction_id),
        Number(row.modification_id),
        Number(row.affiliate_id),
        row.url,
        row.status,
      ]),
    ).toEqual([
      [twice.id, firstChange.id, withUrl.id, `http://127.0.0.1:9/pb?t=${twice.id}&ap=1.00`, 'pending'],
      [twice.id, secondChange.id, withUrl.id, `http://127.0.0.1:9/pb?t=${twice.id}&ap=4.00`, 'pending'],
    ]);
  });

  describe('afterApply', () => {
    async function scene() {
      const campaign = await buildCampaign(services);
      const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
      const [first, refused, second] = [
        await buildTransaction(services, campaign, affiliate),
        await buildTransaction(services, campaign, affiliate),
        await buildTransaction(services, campaign, affiliate),
      ];
      const pending = await buildTransaction(services, campaign, affiliate, { occurredAt: Date.now() + HOUR_MS });
      await rollUpIncluding(services, first.occurredAt);
      const commands = [
        command(byId(first), campaign.password, values('1.00', '2.00', false), { executeAffiliatePixel: true }),
        command(byId(refused), 'not-the-password', values('1.00', '2.00', false)),
        command(byId(second), campaign.password, { affiliatePayout: money('3.00') }),
        command(byId(pending), campaign.password, { affiliatePayout: money('3.00') }),
      ];
      return { ids: [first.id, refused.id, second.id, pending.id], commands };
    }

    /** The history rows of the commands as the unit of work itself sees them. */
    const requestIdsSeenBy = async (sql: Sql, commands: ModificationCommand[]) =>
      (
        await sql.rows<{ request_id: string }>(
          `select request_id from modifications where request_id in (${commands.map(() => '?').join(', ')}) order by id`,
          commands.map((c) => c.requestId),
        )
      ).map((row) => row.request_id);

    it('gets the indexes of the applied commands only, inside the unit of work, and commits with them', async () => {
      const { ids, commands } = await scene();
      const calls: Array<{ applied: number[]; seen: string[] }> = [];
      const outcomes = await core().modifyMany(commands, {
        concurrency: 2,
        afterApply: async (sql, applied) => void calls.push({ applied, seen: await requestIdsSeenBy(sql, commands) }),
      });
      expect(outcomes!.map((outcome) => outcome.kind)).toEqual([
        'applied',
        'unauthorized',
        'applied',
        'hourly_pending',
      ]);
      expect(calls).toEqual([{ applied: [0, 2], seen: [commands[0].requestId, commands[2].requestId] }]);
      expect((await history(ids[0])).map((row) => row.requestId)).toEqual([commands[0].requestId]);
    });

    it('is not called when no command applies', async () => {
      const { commands } = await scene();
      const calls: number[][] = [];
      const outcomes = await core().modifyMany([commands[1], commands[3]], {
        concurrency: 2,
        afterApply: async (_sql, applied) => void calls.push(applied),
      });
      expect(outcomes).toEqual([{ kind: 'unauthorized' }, { kind: 'hourly_pending' }]);
      expect(calls).toEqual([]);
    });

    it('rolls every change back when it throws, and modifyMany rethrows: no transaction, history, statistics or outbox row changes', async () => {
      const { ids, commands } = await scene();
      const before = await writtenState(ids);
      const calls: Array<{ applied: number[]; seen: string[] }> = [];
      const failing = core().modifyMany(commands, {
        concurrency: 2,
        afterApply: async (sql, applied) => {
          calls.push({ applied, seen: await requestIdsSeenBy(sql, commands) });
          throw new Error('the batch row has a result already');
        },
      });
      await expect(failing).rejects.toThrow('the batch row has a result already');
      // The changes were written in the unit of work, then undone.
      expect(calls).toEqual([{ applied: [0, 2], seen: [commands[0].requestId, commands[2].requestId] }]);
      expect(await writtenState(ids)).toEqual(before);
    });
  });

  describe('nightly processing', () => {
    async function scene() {
      const campaign = await buildCampaign(services);
      const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
      const [first, second] = [
        await buildTransaction(services, campaign, affiliate),
        await buildTransaction(services, campaign, affiliate),
      ];
      await rollUpIncluding(services, first.occurredAt);
      const commands = [
        command(byId(first), campaign.password, { affiliatePayout: money('1.00') }, { executeAffiliatePixel: true }),
        command(byId(second), campaign.password, { approved: false }),
      ];
      return { ids: [first.id, second.id], commands };
    }

    it('answers null and writes nothing while the flag is set; the same commands apply once it is cleared', async () => {
      const { ids, commands } = await scene();
      const before = await writtenState(ids);
      const calls: number[][] = [];
      const afterApply = async (_sql: Sql, applied: number[]) => void calls.push(applied);
      await services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: true });
      try {
        expect(await core().modifyMany(commands, { concurrency: 2, afterApply })).toBeNull();
      } finally {
        await services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: false });
      }
      expect(calls).toEqual([]);
      expect(await writtenState(ids)).toEqual(before);

      expect(
        (await core().modifyMany(commands, { concurrency: 2, afterApply }))!.map((outcome) => outcome.kind),
      ).toEqual(['applied', 'applied']);
      expect(calls).toEqual([[0, 1]]);
    });

    it('answers null and writes nothing when the flag is found set under the lock, after the pre-checks passed', async () => {
      const { ids, commands } = await scene();
      const before = await writtenState(ids);
      const { stores } = services;
      const nightCore = new ModificationService({
        ...stores,
        processingState: new NightlyStartsBeforeLocks(database.db.knex, database.db.engine),
        rules: new LinkTrustRules({ ...stores, passwords: services.passwords }),
        postbacks: new TransactionalPostbackOutbox(stores.postbacks),
        now: () => NOW,
      });
      const calls: number[][] = [];
      expect(
        await nightCore.modifyMany(commands, {
          concurrency: 2,
          afterApply: async (_sql, applied) => void calls.push(applied),
        }),
      ).toBeNull();
      expect(calls).toEqual([]);
      expect(await writtenState(ids)).toEqual(before);
    });
  });

  it('refuses, and writes nothing, when two changes are written and one has no request id (history ids are read back by request id)', async () => {
    const campaign = await buildCampaign(services);
    const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
    const [first, second] = [
      await buildTransaction(services, campaign, affiliate),
      await buildTransaction(services, campaign, affiliate),
    ];
    await rollUpIncluding(services, first.occurredAt);
    const commands = [
      command(byId(first), campaign.password, { affiliatePayout: money('1.00') }, { executeAffiliatePixel: true }),
      command(byId(second), campaign.password, { approved: false }, { requestId: '' }),
    ];
    const before = await writtenState([first.id, second.id]);

    await expect(core().modifyMany(commands, { concurrency: 2 })).rejects.toThrow(
      'appendMany needs a request id on every history row',
    );
    expect(await writtenState([first.id, second.id])).toEqual(before);
  });
});
