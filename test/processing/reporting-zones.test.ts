import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { addTransaction, editCommand } from './processing-helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Zones whose offset is not a whole number of hours; Adelaide's also changes with DST.
const ZONES = ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide'];

/** The zone's offset from UTC at an instant, in ms, read from Intl's own offset name (`GMT+05:45`). */
function offsetAt(zone: string, at: number): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(at))
      .find((part) => part.type === 'timeZoneName')?.value ?? '';
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!match) throw new Error(`unexpected offset name ${name}`);
  return match[1] ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * HOUR + Number(match[3]) * MINUTE) : 0;
}

/** Where a local date begins in the zone (the date is away from DST changes in these tests). */
function localMidnight(zone: string, date: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`);
  return guess - offsetAt(zone, guess - offsetAt(zone, guess));
}

/** The local date of an instant in the zone. */
const localDate = (zone: string, at: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(at),
  );

/** YYYY-MM-DD `days` after `date`. */
const plusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

interface Placed {
  id: number;
  campaignId: number;
  affiliateId: number;
  at: number;
  payout: bigint;
  revenue: bigint;
  approved: boolean;
}

/** Daily totals recomputed in JavaScript from the transactions, keyed `date|campaign|affiliate`. */
function recompute(zone: string, placed: Placed[]) {
  const totals = new Map<
    string,
    {
      transactions: number;
      approvedTransactions: number;
      affiliatePayout: bigint;
      merchantRevenue: bigint;
      approvedAffiliatePayout: bigint;
      approvedMerchantRevenue: bigint;
    }
  >();
  for (const t of placed) {
    const key = `${localDate(zone, t.at)}|${t.campaignId}|${t.affiliateId}`;
    const sum = totals.get(key) ?? {
      transactions: 0,
      approvedTransactions: 0,
      affiliatePayout: 0n,
      merchantRevenue: 0n,
      approvedAffiliatePayout: 0n,
      approvedMerchantRevenue: 0n,
    };
    totals.set(key, {
      transactions: sum.transactions + 1,
      approvedTransactions: sum.approvedTransactions + (t.approved ? 1 : 0),
      affiliatePayout: sum.affiliatePayout + t.payout,
      merchantRevenue: sum.merchantRevenue + t.revenue,
      approvedAffiliatePayout: sum.approvedAffiliatePayout + (t.approved ? t.payout : 0n),
      approvedMerchantRevenue: sum.approvedMerchantRevenue + (t.approved ? t.revenue : 0n),
    });
  }
  return totals;
}

describe.each(testEngines().flatMap((engine) => ZONES.map((zone) => [engine, zone] as const)))(
  'daily totals on %s in %s',
  (engine, zone) => {
    const context = useTestServer(engine, { REPORTING_TIMEZONE: zone });

    it('hold exactly each local day’s transactions, also around local midnight and after an edit in a split hour', async () => {
      const { services } = context.server;
      await services.processing.runHourly();
      const date = localDate(zone, Date.now() - 12 * DAY);
      const [start, end] = [localMidnight(zone, date), localMidnight(zone, plusDays(date, 1))];
      const affiliates = [await buildAffiliate(services), await buildAffiliate(services)];
      const campaign = await buildCampaign(services);
      // Around both local midnights, inside the UTC hours they split, and in between.
      const offsets = [
        start - 20 * MINUTE,
        start - MINUTE,
        start,
        start + 10 * MINUTE,
        start + 29 * MINUTE,
        start + 44 * MINUTE,
        start + 50 * MINUTE,
        start + 12 * HOUR,
        end - 31 * MINUTE,
        end - 16 * MINUTE,
        end - 1,
        end,
        end + 14 * MINUTE,
        end + 40 * MINUTE,
      ];
      const placed: Placed[] = [];
      for (const [index, at] of offsets.entries()) {
        const affiliate = affiliates[index % 2];
        const [payout, revenue, approved] = [
          BigInt(10_000 + index * 1_234),
          BigInt(100_000 + index * 777),
          index % 3 !== 1,
        ];
        const created = await addTransaction(services, campaign, affiliate, {
          occurredAt: at,
          affiliatePayout: `${payout / 10_000n}.${(payout % 10_000n).toString().padStart(4, '0')}`,
          merchantRevenue: `${revenue / 10_000n}.${(revenue % 10_000n).toString().padStart(4, '0')}`,
          approved,
        });
        placed.push({
          id: created.id,
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          at,
          payout,
          revenue,
          approved,
        });
      }
      const days = [plusDays(date, -1), date, plusDays(date, 1)];

      /** The daily rows of the three days next to the recomputation, both keyed `date|campaign|affiliate`. */
      const compare = async () => {
        const rows = await services.processing.dailyReport({
          campaignId: campaign.id,
          from: days[0],
          to: days[2],
          limit: 100,
        });
        const stored = new Map(
          rows.map(({ date: day, campaignId, affiliateId, computedAt: _ignored, ...totals }) => [
            `${day}|${campaignId}|${affiliateId}`,
            totals,
          ]),
        );
        const expected = new Map([...recompute(zone, placed)].filter(([key]) => days.includes(key.slice(0, 10))));
        return { stored: Object.fromEntries([...stored].sort()), expected: Object.fromEntries([...expected].sort()) };
      };

      for (const day of days) expect((await services.processing.runNightly({ date: day })).kind).toBe('completed');
      const first = await compare();
      // Every transaction lands in one of the three days, and each day gets exactly its own.
      expect(Object.keys(first.expected)).toHaveLength(6);
      expect(first.stored).toEqual(first.expected);

      // An edit in the hour local midnight splits: the next run brings both days of that hour up to date.
      const split = placed[3];
      const outcome = await services.modifications.modify(
        editCommand(split.id, campaign.password as string, { affiliatePayout: 987_654n, approved: !split.approved }),
      );
      expect(outcome.kind).toBe('applied');
      Object.assign(split, { payout: 987_654n, approved: !split.approved });
      const later = await services.processing.runNightly({ date: plusDays(date, 3) });
      expect(later.kind === 'completed' && later.report.refreshedDates).toEqual(expect.arrayContaining([date]));
      const second = await compare();
      expect(second.stored).toEqual(second.expected);
    });
  },
);
