import fc from 'fast-check';
import { hourStart } from '../../src/core/hours';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import {
  addTransaction,
  editCommand,
  recomputeFromTransactions,
  rewindRollup,
  storedHourlyStatistics,
  watermark,
} from './processing-helpers';

const HOUR = 3_600_000;
const SPAN_HOURS = 72;

const money = fc.bigInt({ min: 0n, max: 99_999_999n }); // up to 9,999.9999
const moment = fc.record({
  hour: fc.integer({ min: 0, max: SPAN_HOURS - 1 }),
  millisecond: fc.integer({ min: 0, max: HOUR - 1 }),
});
const newTransaction = fc.record({
  at: moment,
  affiliatePayout: money,
  merchantRevenue: money,
  approved: fc.boolean(),
  affiliate: fc.integer({ min: 0, max: 1 }),
});
type NewTransaction = typeof newTransaction extends fc.Arbitrary<infer T> ? T : never;
const action = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      pick: fc.nat(),
      affiliatePayout: fc.option(money),
      merchantRevenue: fc.option(money),
      approved: fc.option(fc.boolean()),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('rollup' as const),
      throughHour: fc.integer({ min: 0, max: SPAN_HOURS }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), transaction: newTransaction }) },
);
const scenario = fc.record({
  transactions: fc.array(newTransaction, { minLength: 1, maxLength: 8 }),
  actions: fc.array(action, { minLength: 1, maxLength: 16 }),
});

describe.each(testEngines())('hourly statistics under random edits and roll-ups on %s', (engine) => {
  const context = useTestServer(engine);

  /** Every rolled-up hour's statistics equal a recomputation; no hour after the watermark has any. */
  async function expectStatisticsTrue(start: number): Promise<void> {
    const rolledUpThrough = await watermark(context.server.services);
    expect(await storedHourlyStatistics(context.server.services, { from: start, to: rolledUpThrough })).toEqual(
      await recomputeFromTransactions(context.server.services, { from: start, to: rolledUpThrough }),
    );
    expect(
      (await storedHourlyStatistics(context.server.services, { from: rolledUpThrough, to: Number.MAX_SAFE_INTEGER }))
        .size,
    ).toBe(0);
  }

  it('keeps every rolled-up hour equal to its transactions', async () => {
    const affiliates = [await buildAffiliate(context.server.services), await buildAffiliate(context.server.services)];
    const campaign = await buildCampaign(context.server.services);
    const password = campaign.password as string;
    const seen = { applied: 0, hourly_pending: 0 };

    await fc.assert(
      fc.asyncProperty(scenario, async ({ transactions, actions }) => {
        // Each case starts from a watermark SPAN_HOURS back (earlier cases' transactions stay and count too).
        const start = hourStart(Date.now()) - SPAN_HOURS * HOUR;
        await rewindRollup(context.server.services, start);
        const occurredAt = (at: { hour: number; millisecond: number }) => start + at.hour * HOUR + at.millisecond;
        const create = (t: NewTransaction) =>
          addTransaction(context.server.services, campaign, affiliates[t.affiliate], {
            occurredAt: occurredAt(t.at),
            affiliatePayout: formatTenThousandths(t.affiliatePayout),
            merchantRevenue: formatTenThousandths(t.merchantRevenue),
            approved: t.approved,
          });
        const ids = [];
        for (const t of transactions) ids.push((await create(t)).id);

        for (const step of actions) {
          if (step.kind === 'rollup') {
            await context.server.services.processing.runHourly({ through: start + step.throughHour * HOUR });
          } else if (step.kind === 'insert') {
            ids.push((await create(step.transaction)).id);
          } else {
            const changes = {
              ...(step.affiliatePayout !== null ? { affiliatePayout: step.affiliatePayout } : {}),
              ...(step.merchantRevenue !== null ? { merchantRevenue: step.merchantRevenue } : {}),
              ...(step.approved !== null ? { approved: step.approved } : {}),
            };
            const outcome = await context.server.services.modifications.modify(
              editCommand(ids[step.pick % ids.length], password, changes),
            );
            expect(['applied', 'hourly_pending']).toContain(outcome.kind);
            seen[outcome.kind as keyof typeof seen]++;
          }
          await expectStatisticsTrue(start);
        }
      }),
      { numRuns: 25 },
    );
    // The cases did reach both sides of the watermark.
    expect(seen.applied).toBeGreaterThan(0);
    expect(seen.hourly_pending).toBeGreaterThan(0);
  });
});

function formatTenThousandths(value: bigint): string {
  return `${value / 10_000n}.${(value % 10_000n).toString().padStart(4, '0')}`;
}
