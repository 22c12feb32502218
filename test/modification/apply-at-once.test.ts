import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { createServices, type Services } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { ModificationCommand, RequestedChanges, TransactionIdentifier } from '../../src/modification/command';
import { parseMoney } from '../../src/core/money';
import type { Outcome } from '../../src/modification/outcome';
import { HOUR_MS, hourStart } from '../../src/core/hours';
import type { Transaction } from '../../src/core/transaction';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, freshId } from '../support/factories';
import { eventually, rollUpIncluding, statisticsMismatches } from '../faults/fault-helpers';
import { historyRowOf, statisticsTotalsOf, writtenState as writtenStateOf } from '../support/written-state';

// An edit whose password passed a compare lately is checked and applied in one unit of work (the
// processing state and the transaction locked first, the campaign's settings read with the row, COMMIT sent with the
// writes). These tests watch which path an edit takes through the statements the core announces on
// knex's 'query' event, and count bcrypt compares with a spy that calls through to the real bcrypt.

/** The clock every change of this file is stamped with, so that outcomes compare whole. */
const NOW = Date.now();
const money = (text: string) => parseMoney(text) as bigint;
const values = (affiliatePayout: string, merchantRevenue: string, approved: boolean) => ({
  affiliatePayout: money(affiliatePayout),
  merchantRevenue: money(merchantRevenue),
  approved,
});
const runId = crypto.randomBytes(4).toString('hex');
let requests = 0;
let addresses = 0;
/** A client address no other command of this file uses, so the per-IP failure limit only counts a test's own failures. */
const freshIp = () => `198.51.${100 + Math.floor(++addresses / 250)}.${addresses % 250}`;

/** A /transaction.edit command (the limited source) with a request id and client address of its own. */
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
    clientIp: freshIp(),
    requestId: `at-once-${runId}-${++requests}`,
    source: 'api',
    ...extra,
  };
}
const byId = (transaction: { id: number }, campaignId: number | null = null): TransactionIdentifier => ({
  kind: 'transaction_id',
  transactionId: transaction.id,
  campaignId,
});
const byClickId = (transaction: { clickId: string }): TransactionIdentifier => ({
  kind: 'click_id',
  clickId: transaction.clickId,
  campaignId: null,
});
const identify = (kind: 'transaction_id' | 'click_id', transaction: Transaction) =>
  kind === 'transaction_id' ? byId(transaction) : byClickId(transaction);

/** The first words of a statement: enough to tell the statements of a unit of work apart. */
const shape = (sql: string) => sql.split(/\s+/).slice(0, 3).join(' ');
/** The usual path's unlocked lookup (nightly flag, transaction and campaign), run before any lock. */
// The lookup leads with the nightly flag: a hold, or a run's live lease.
const isUnlockedLookup = (sql: string) =>
  /^select \(p\.nightly_in_progress = 1 or [^\n]*\) as p_nightly, t\.\*/.test(sql);

const IP_FAILURES = 3;

describe.each(testEngines())(
  'ModificationService: a verified password applies in one unit of work, on %s',
  (engine) => {
    let database: TestDatabase;
    let services: Services;
    let compares: jest.SpiedFunction<(password: string, hash: string) => Promise<boolean>>;

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      // The credential cache on (explicitly, at its defaults), failed attempts limited per client address.
      const config = loadConfig({
        LOG_LEVEL: 'silent',
        BCRYPT_COST: '4',
        CREDENTIAL_CACHE_SIZE: '10000',
        CREDENTIAL_CACHE_TTL_SECONDS: '300',
        RATE_LIMIT_IP_FAILURES: String(IP_FAILURES),
        RATE_LIMIT_CAMPAIGN_FAILURES: '0',
        // Every compare in this process, where the spy below counts it (a failed client's next compares
        // would otherwise run in the low-priority process: test/auth/password-verifier.test.ts).
        BCRYPT_LOW_PRIORITY: 'false',
      });
      services = createServices(config, database.db, createLogger('silent'), { now: () => NOW });
      compares = jest.spyOn(
        bcrypt as unknown as { compare: (password: string, hash: string) => Promise<boolean> },
        'compare',
      );
    });
    afterAll(async () => {
      compares?.mockRestore();
      await services?.postbackDispatcher.close();
      await services?.limiter.close();
      await database?.drop();
    });

    const core = () => services.modifications;
    const knex = () => services.db.knex;
    const history = (transactionId: number) => services.stores.modifications.listForTransaction(transactionId);
    const transaction = async (id: number) => (await services.stores.transactions.getById(id))!;

    // The processing state under its shared lock (the flag: a hold, or a run's live lease by the database's clock).
    const stateRead = () => services.stores.processingState.readForModificationStatement().sql;
    const setting = (column: string, alias: string) =>
      `(select ${column} from campaigns c where c.id = t.campaign_id) as ${alias}`;
    /** The first round trip of the one-unit path: the shared lock on the processing state, the row lock with the campaign's settings. */
    // MariaDB reads the settings by subqueries (FOR UPDATE over a join would lock the campaign's row too); SQLite joins.
    const oneUnitLocks = (column: 'id' | 'click_id') => [
      stateRead(),
      engine === 'mysql'
        ? `select t.*, ${setting('allow_external_modification', 'c_allow')}, ${setting('password_hash', 'c_password_hash')}, ` +
          `${setting('whitelist_only', 'c_whitelist_only')}, ${setting('unique_merchant_reference', 'c_unique_ref')} ` +
          `from transactions t where t.${column} = ? for update`
        : 'select t.*, c.allow_external_modification as c_allow, c.password_hash as c_password_hash, ' +
          'c.whitelist_only as c_whitelist_only, c.unique_merchant_reference as c_unique_ref ' +
          `from transactions t join campaigns c on c.id = t.campaign_id where t.${column} = ?`,
    ];
    const columnOf = (kind: 'transaction_id' | 'click_id') => (kind === 'transaction_id' ? 'id' : 'click_id');

    /** Runs `work`, returning its result with the statements announced meanwhile and the bcrypt compares it ran. */
    async function watched<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[]; compares: number }> {
      const statements: string[] = [];
      const listener = (query: { sql: string }) => statements.push(query.sql);
      const comparesBefore = compares.mock.calls.length;
      knex().on('query', listener);
      try {
        const result = await work();
        return { result, statements, compares: compares.mock.calls.length - comparesBefore };
      } finally {
        knex().off('query', listener);
      }
    }

    const rowOf = (transactionId: number, requestId: string) => historyRowOf(services, transactionId, requestId);
    const writtenState = (transactionIds: number[]) => writtenStateOf(knex(), transactionIds);

    /** The hourly statistics row of one (hour, campaign, affiliate), money as bigint. */
    async function statisticsRow(hour: number, campaignId: number, affiliateId: number) {
      return statisticsTotalsOf(
        await knex()('hourly_statistics')
          .where({ hour_start: hour, campaign_id: campaignId, affiliate_id: affiliateId })
          .first(),
      );
    }

    /** A campaign whose password one applied edit (of a transaction of its own) has just verified. */
    async function verifiedScene(
      campaignFields: Parameters<typeof buildCampaign>[1] = {},
      affiliateFields: Parameters<typeof buildAffiliate>[1] = {},
    ) {
      const campaign = await buildCampaign(services, campaignFields);
      const affiliate = await buildAffiliate(services, affiliateFields);
      const warmUp = await buildTransaction(services, campaign, affiliate);
      const target = await buildTransaction(services, campaign, affiliate, {
        affiliatePayout: '10.00',
        merchantRevenue: '100.00',
        approved: true,
      });
      await rollUpIncluding(services, target.occurredAt);
      const first = await watched(() =>
        core().modify(command(byId(warmUp), campaign.password, { affiliatePayout: money('9.99') })),
      );
      expect([first.result.kind, first.compares]).toEqual(['applied', 1]);
      expect(services.passwords.mayBeKnown(campaign.password)).toBe(true);
      return { campaign, affiliate, target, password: campaign.password as string };
    }

    it.each(['transaction_id', 'click_id'] as const)(
      'applies a second edit by %s in one unit of work without a compare, leaving exactly what the usual path left for the first',
      async (kind) => {
        const campaign = await buildCampaign(services);
        const affiliate = await buildAffiliate(services);
        const usualTwin = await buildTransaction(services, campaign, affiliate, {
          affiliatePayout: '10.00',
          merchantRevenue: '100.00',
          approved: true,
        });
        const atOnceTwin = await buildTransaction(services, campaign, affiliate, {
          affiliatePayout: '10.00',
          merchantRevenue: '100.00',
          approved: true,
          occurredAt: usualTwin.occurredAt,
        });
        await rollUpIncluding(services, usualTwin.occurredAt);
        const changes = values('4.25', '42.50', false);
        const clientIp = freshIp();
        const usualCommand = command(identify(kind, usualTwin), campaign.password, changes, {
          reason: 'twin',
          clientIp,
        });
        const atOnceCommand = command(identify(kind, atOnceTwin), campaign.password, changes, {
          reason: 'twin',
          clientIp,
        });

        const usual = await watched(() => core().modify(usualCommand));
        const atOnce = await watched(() => core().modify(atOnceCommand));

        // The first edit of the campaign: the password was never verified, so the usual path with its compare.
        expect(usual.compares).toBe(1);
        expect(isUnlockedLookup(usual.statements[0])).toBe(true);
        // The second: no compare, no unlocked lookup; the locks, then the three writes.
        expect(atOnce.compares).toBe(0);
        expect(atOnce.statements.slice(0, 2)).toEqual(oneUnitLocks(columnOf(kind)));
        expect(atOnce.statements.slice(2).map(shape)).toEqual([
          'update transactions set',
          'insert into hourly_statistics',
          'insert into modifications',
        ]);

        const usualRow = await rowOf(usualTwin.id, usualCommand.requestId);
        const atOnceRow = await rowOf(atOnceTwin.id, atOnceCommand.requestId);
        expect(atOnce.result).toEqual({
          kind: 'applied',
          transaction: { ...atOnceTwin, ...changes, modificationCount: 1, updatedAt: NOW },
          modificationId: atOnceRow.id,
        });
        expect(usual.result).toEqual({
          kind: 'applied',
          transaction: { ...usualTwin, ...changes, modificationCount: 1, updatedAt: NOW },
          modificationId: usualRow.id,
        });
        expect(atOnceRow).toEqual({
          id: atOnceRow.id,
          transactionId: atOnceTwin.id,
          identifier: kind,
          source: 'api',
          before: values('10.00', '100.00', true),
          after: changes,
          reason: 'twin',
          clientIp,
          requestId: atOnceCommand.requestId,
          postback: 'not_requested',
          createdAt: NOW,
          actor: null,
        });
        expect({
          ...usualRow,
          id: atOnceRow.id,
          transactionId: atOnceTwin.id,
          requestId: atOnceCommand.requestId,
        }).toEqual(atOnceRow);
        expect(await history(atOnceTwin.id)).toEqual([atOnceRow]);
        expect(await transaction(atOnceTwin.id)).toEqual({
          ...atOnceTwin,
          ...changes,
          modificationCount: 1,
          updatedAt: NOW,
        });
        expect(await transaction(usualTwin.id)).toEqual({
          ...usualTwin,
          ...changes,
          modificationCount: 1,
          updatedAt: NOW,
        });
        // Both twins moved from (10.00, 100.00, approved) to (4.25, 42.50, not approved) in the same hour.
        expect(await statisticsRow(hourStart(usualTwin.occurredAt), campaign.id, affiliate.id)).toEqual({
          transactions: 2,
          approvedTransactions: 0,
          affiliatePayout: money('8.50'),
          merchantRevenue: money('85.00'),
          approvedAffiliatePayout: 0n,
          approvedMerchantRevenue: 0n,
        });
        expect(await statisticsMismatches(knex())).toEqual([]);
      },
    );

    it('takes the usual path, with one compare, for the first edit of a campaign whose password was never verified', async () => {
      const campaign = await buildCampaign(services);
      const affiliate = await buildAffiliate(services);
      const target = await buildTransaction(services, campaign, affiliate);
      await rollUpIncluding(services, target.occurredAt);
      expect(services.passwords.mayBeKnown(campaign.password)).toBe(false);

      const edit = command(byId(target), campaign.password, { approved: false });
      const first = await watched(() => core().modify(edit));

      expect(first.compares).toBe(1);
      expect(first.statements.filter(isUnlockedLookup)).toHaveLength(1);
      expect(isUnlockedLookup(first.statements[0])).toBe(true);
      // (The campaign read with the row lock is the one-unit path's own statement.)
      expect(first.statements).not.toContain(oneUnitLocks('id')[1]);
      expect(first.result).toEqual({
        kind: 'applied',
        transaction: { ...target, approved: false, modificationCount: 1, updatedAt: NOW },
        modificationId: (await rowOf(target.id, edit.requestId)).id,
      });
      expect(services.passwords.mayBeKnown(campaign.password)).toBe(true);
    });

    it("refuses another campaign's verified password, writes nothing and counts the failure once: the limit bites at the limit", async () => {
      const { password: passwordOfA } = await verifiedScene();
      const { target: ofB } = await verifiedScene();
      const before = await writtenState([ofB.id]);
      const clientIp = freshIp();
      const attempt = () =>
        watched(() => core().modify(command(byId(ofB), passwordOfA, { affiliatePayout: money('0.01') }, { clientIp })));

      const refused: Array<{ outcome: Outcome; compares: number }> = [];
      for (let i = 0; i < IP_FAILURES + 1; i++) {
        const { result, compares: spent, statements } = await attempt();
        refused.push({ outcome: result, compares: spent });
        // Each refused attempt was tried in one unit of work first (the password is known, for campaign A);
        // the one past the limit is refused before any statement, as the usual path would refuse it.
        if (i < IP_FAILURES) expect(statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
        else expect(statements).toEqual([]);
      }

      // Each refusal compared the password with B's hash once (in the usual path); the refusal past the limit compared nothing.
      expect(refused).toEqual([
        { outcome: { kind: 'unauthorized' }, compares: 1 },
        { outcome: { kind: 'unauthorized' }, compares: 1 },
        { outcome: { kind: 'unauthorized' }, compares: 1 },
        { outcome: { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: 900 }, compares: 0 },
      ]);
      expect(await writtenState([ofB.id])).toEqual(before);
    });

    describe('refusals after the password is verified: the usual answer, nothing written', () => {
      type Case = (
        scene: Awaited<ReturnType<typeof verifiedScene>>,
      ) => Promise<{ command: ModificationCommand; undo?: () => Promise<unknown> }>;
      const cases: Array<[string, Case, Outcome, number]> = [
        [
          'the campaign no longer allows external modification',
          async ({ campaign, target, password }) => {
            await services.stores.campaigns.update(
              services.stores.units.alone,
              campaign.id,
              { allowExternalModification: false },
              Date.now(),
            );
            return { command: command(byId(target), password, { affiliatePayout: money('1.00') }) };
          },
          { kind: 'campaign_closed' },
          0,
        ],
        [
          'nightly processing is in progress',
          async ({ target, password }) => {
            await services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: true });
            return {
              command: command(byId(target), password, { affiliatePayout: money('1.00') }),
              undo: () =>
                services.stores.processingState.update(services.stores.units.alone, { nightlyInProgress: false }),
            };
          },
          { kind: 'nightly_in_progress' },
          0,
        ],
        [
          "the transaction's hour is not rolled up",
          async ({ campaign, affiliate, password }) => {
            const pending = await buildTransaction(services, campaign, affiliate, { occurredAt: Date.now() + HOUR_MS });
            return { command: command(byId(pending), password, { affiliatePayout: money('1.00') }) };
          },
          { kind: 'hourly_pending' },
          0,
        ],
        [
          'the transaction id is unknown (compare time spent once, as for any unknown id)',
          async ({ password }) => ({
            command: command(byId({ id: freshId() }), password, { affiliatePayout: money('1.00') }),
          }),
          { kind: 'invalid_transaction' },
          1,
        ],
        [
          'the CID names another campaign (compare time spent once)',
          async ({ target, password }) => {
            const other = await buildCampaign(services, { password });
            return { command: command(byId(target, other.id), password, { affiliatePayout: money('1.00') }) };
          },
          { kind: 'invalid_transaction' },
          1,
        ],
      ];

      it.each(cases)('when %s', async (_when, arrange, expected, expectedCompares) => {
        const scene = await verifiedScene();
        const { command: refused, undo } = await arrange(scene);
        const ids =
          refused.identifier.kind === 'transaction_id'
            ? [refused.identifier.transactionId, scene.target.id]
            : [scene.target.id];
        const before = await writtenState(ids);
        let answer;
        try {
          answer = await watched(() => core().modify(refused));
        } finally {
          await undo?.();
        }
        expect(answer.result).toEqual(expected);
        expect(answer.compares).toBe(expectedCompares);
        expect(answer.statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
        expect(await writtenState(ids)).toEqual(before);
        // A refusal is a refusal of this edit only: the next one of the scene's transaction applies (once the cause is gone).
        if (expected.kind === 'nightly_in_progress') {
          expect((await core().modify(command(byId(scene.target), scene.password, { approved: false }))).kind).toBe(
            'applied',
          );
        }
      });
    });

    describe("a white-list-only campaign with a verified password (the white-list is never read under the unit's locks)", () => {
      it('refuses a caller whose address is not listed, and applies, through the usual path, for a listed one', async () => {
        const listed = freshIp();
        const campaign = await buildCampaign(services, { whitelistOnly: true });
        await services.stores.whitelist.create(
          services.stores.units.alone,
          { address: listed, campaignId: campaign.id, note: null },
          Date.now(),
        );
        const affiliate = await buildAffiliate(services);
        const [warmUp, target] = [
          await buildTransaction(services, campaign, affiliate),
          await buildTransaction(services, campaign, affiliate),
        ];
        await rollUpIncluding(services, target.occurredAt);
        const first = await watched(() =>
          core().modify(command(byId(warmUp), campaign.password, { approved: false }, { clientIp: listed })),
        );
        expect([first.result.kind, first.compares]).toEqual(['applied', 1]);
        const before = await writtenState([target.id]);

        const stranger = await watched(() =>
          core().modify(command(byId(target), campaign.password, { approved: false })),
        );
        expect([stranger.result, stranger.compares]).toEqual([{ kind: 'unauthorized' }, 0]);
        expect(await writtenState([target.id])).toEqual(before);

        const member = command(byId(target), campaign.password, { approved: false }, { clientIp: listed });
        const applied = await watched(() => core().modify(member));
        const row = await rowOf(target.id, member.requestId);
        expect(applied.result).toEqual({
          kind: 'applied',
          transaction: { ...target, approved: false, modificationCount: 1, updatedAt: NOW },
          modificationId: row.id,
        });
        expect(applied.compares).toBe(0);
        expect(applied.statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
        expect(applied.statements.filter(isUnlockedLookup)).toHaveLength(1);
        expect(row).toMatchObject({
          before: values('10.00', '100.00', true),
          after: values('10.00', '100.00', false),
          clientIp: listed,
        });
        expect(await statisticsMismatches(knex())).toEqual([]);
      });
    });

    it("queues the affiliate's postback in the same unit of work, naming the history row", async () => {
      const template = 'http://127.0.0.1:9/pb?t=[=_TransID=]&ap=[=AffiliateCommission=]';
      const { target, password, affiliate } = await verifiedScene({}, { postbackUrl: template });
      const pixel = command(
        byId(target),
        password,
        { affiliatePayout: money('3.50') },
        { executeAffiliatePixel: true, reason: 'with pixel' },
      );

      const applied = await watched(() => core().modify(pixel));

      const row = await rowOf(target.id, pixel.requestId);
      expect(applied.compares).toBe(0);
      expect(applied.statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
      expect(applied.statements.filter(isUnlockedLookup)).toEqual([]);
      expect(applied.result).toEqual({
        kind: 'applied',
        transaction: { ...target, affiliatePayout: money('3.50'), modificationCount: 1, updatedAt: NOW },
        modificationId: row.id,
      });
      expect(row).toMatchObject({ postback: 'queued', reason: 'with pixel', after: values('3.50', '100.00', true) });
      const deliveries = await knex()('postback_deliveries').where({ transaction_id: target.id });
      expect(
        deliveries.map((delivery: Record<string, unknown>) => [
          Number(delivery.modification_id),
          Number(delivery.affiliate_id),
          delivery.url,
          delivery.status,
        ]),
      ).toEqual([[row.id, affiliate.id, `http://127.0.0.1:9/pb?t=${target.id}&ap=3.50`, 'pending']]);
    });

    it('misses the cache when the campaign password changes: the old password is refused, the new one applies', async () => {
      const { campaign, target, password: old } = await verifiedScene();
      const replacement = `new-${old}`;
      await services.stores.campaigns.update(
        services.stores.units.alone,
        campaign.id,
        { passwordHash: await bcrypt.hash(replacement, 4) },
        Date.now(),
      );
      const before = await writtenState([target.id]);

      const refused = await watched(() => core().modify(command(byId(target), old, { approved: false })));
      expect([refused.result, refused.compares]).toEqual([{ kind: 'unauthorized' }, 1]);
      expect(refused.statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
      expect(await writtenState([target.id])).toEqual(before);

      const first = await watched(() => core().modify(command(byId(target), replacement, { approved: false })));
      expect([first.result.kind, first.compares, isUnlockedLookup(first.statements[0])]).toEqual(['applied', 1, true]);
      const again = await watched(() =>
        core().modify(command(byId(target), replacement, { affiliatePayout: money('2.00') })),
      );
      expect([again.result.kind, again.compares]).toEqual(['applied', 0]);
      expect(again.statements.slice(0, 2)).toEqual(oneUnitLocks('id'));
      expect(await transaction(target.id)).toEqual({
        ...target,
        ...values('2.00', '100.00', false),
        modificationCount: 2,
        updatedAt: NOW,
      });
    });

    (engine === 'mysql' ? it : it.skip)(
      'holds the row lock and the shared lock on the processing state, and never locks the campaign row',
      async () => {
        const { campaign, target } = await verifiedScene();
        const { allowExternalModification, passwordHash, whitelistOnly, uniqueMerchantReference } =
          (await services.stores.campaigns.get(campaign.id))!;
        expect([allowExternalModification, passwordHash?.startsWith('$2b$04$')]).toEqual([true, true]);
        // NOWAIT: a lock another unit of work holds is refused at once instead of awaited.
        const probe = async (sql: string, id: number) => {
          const other = await knex().transaction();
          try {
            await other.raw(`${sql} nowait`, [id]);
            return 'free';
          } catch (error) {
            return (error as { code?: string }).code;
          } finally {
            await other.rollback();
          }
        };
        const seen = await services.stores.sql.transaction(async (sql) => {
          const [state, found] = await sql.all([
            services.stores.processingState.readForModificationStatement(),
            services.stores.transactions.lockWithCampaignStatement({ id: target.id }),
          ]);
          return {
            found,
            nightly: state.nightlyInProgress,
            transaction: await probe('select id from transactions where id = ? for update', target.id),
            campaign: await probe('select id from campaigns where id = ? for update', campaign.id),
            processingState: await probe('select id from processing_state where id = ? for update', 1),
          };
        });
        expect(seen).toEqual({
          found: [
            {
              transaction: target,
              campaign: {
                id: campaign.id,
                allowExternalModification,
                passwordHash,
                whitelistOnly,
                uniqueMerchantReference,
              },
            },
          ],
          nightly: false,
          transaction: 'ER_LOCK_WAIT_TIMEOUT',
          campaign: 'free',
          processingState: 'ER_LOCK_WAIT_TIMEOUT',
        });
        // Nothing is held once the unit of work has ended.
        expect(await probe('select id from transactions where id = ? for update', target.id)).toBe('free');
      },
    );

    /**
     * MariaDB: runs `work` while another connection holds the transaction's row lock, and lets go once two
     * statements of this schema are held up behind it, so that the two edits surely overlap. (SQLite's one
     * connection runs units of work one at a time: there is nothing to overlap.)
     */
    async function afterBothWait<T>(transactionId: number, work: () => Promise<T>): Promise<T> {
      const schema = new URL((database.config as { url: string }).url).pathname.slice(1);
      const holder = await knex().transaction();
      let pending: Promise<T> | undefined;
      try {
        await holder.raw('select id from transactions where id = ? for update', [transactionId]);
        pending = work();
        await eventually('both edits held up by the row lock', async () => {
          const [rows] = await knex().raw(
            "select count(*) as waiting from information_schema.processlist where db = ? and id <> connection_id() and command = 'Query' and info like '%transactions%'",
            [schema],
          );
          return Number(rows[0].waiting) >= 2 ? true : undefined;
        });
      } finally {
        await holder.rollback();
      }
      return pending;
    }

    it('applies two concurrent edits of one transaction one after the other: chained history, both changes kept, statistics right', async () => {
      const { target, password } = await verifiedScene();
      const payout = command(byId(target), password, { affiliatePayout: money('1.00') });
      const revenue = command(byClickId(target), password, { merchantRevenue: money('2.00') });

      const edits = () => watched(() => Promise.all([core().modify(payout), core().modify(revenue)]));
      const {
        result: outcomes,
        statements,
        compares: spent,
      } = engine === 'mysql' ? await afterBothWait(target.id, edits) : await edits();

      expect(spent).toBe(0);
      expect(statements.filter(isUnlockedLookup)).toEqual([]);
      const rows = await history(target.id);
      expect(rows).toHaveLength(2);
      expect(rows.map((row) => row.requestId).sort()).toEqual([payout.requestId, revenue.requestId].sort());
      // Whatever the order, the second change started from the first one's values: neither was lost.
      expect(rows[0].before).toEqual(values('10.00', '100.00', true));
      expect(rows[1].before).toEqual(rows[0].after);
      expect(rows[1].after).toEqual(values('1.00', '2.00', true));
      expect(await transaction(target.id)).toEqual({
        ...target,
        ...values('1.00', '2.00', true),
        modificationCount: 2,
        updatedAt: NOW,
      });
      const idOf = (requestId: string) => rows.find((row) => row.requestId === requestId)!.id;
      expect(outcomes).toEqual([
        {
          kind: 'applied',
          transaction: {
            ...target,
            ...rows.find((row) => row.requestId === payout.requestId)!.after,
            // The first change to commit is the first modification.
            modificationCount: rows.findIndex((row) => row.requestId === payout.requestId) + 1,
            updatedAt: NOW,
          },
          modificationId: idOf(payout.requestId),
        },
        {
          kind: 'applied',
          transaction: {
            ...target,
            ...rows.find((row) => row.requestId === revenue.requestId)!.after,
            // The first change to commit is the first modification.
            modificationCount: rows.findIndex((row) => row.requestId === revenue.requestId) + 1,
            updatedAt: NOW,
          },
          modificationId: idOf(revenue.requestId),
        },
      ]);
      expect(await statisticsMismatches(knex())).toEqual([]);
    });
  },
);
