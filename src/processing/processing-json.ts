import { z } from 'zod';
import { formatMoney } from '../core/money';
import { decimalAmount, isoInstant } from '../http/api-schemas';
import type { DailyStatistics } from '../store/daily-statistics-store';
import type { StatisticsTotals } from '../core/statistics';
import type { HourlyStatistics } from '../store/report-queries';
import type { ConsistencyDifference } from './consistency-check';
import type { RollupResult } from './hourly-rollup';
import type { NightlyReport } from './nightly-processing';
import type { ProcessingStatus } from './processing-service';
import { isReportingDate } from './reporting-calendar';

/** An instant as an ISO string; null stays null. */
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const INSTANT =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,3})?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Parses an ISO 8601 date-time with a zone (`2026-11-25T10:00:00Z`, `…+01:00`), or null. Stricter than
 * Date.parse, which accepts February 30th and reads a time without a zone as the server's local time.
 */
export function parseInstant(text: string): number | null {
  const match = INSTANT.exec(text);
  if (!match || !isReportingDate(match[1])) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** Counts and exact totals as the admin API answers them. */
export const totalsSchema = z.object({
  transactions: z.number().int(),
  approvedTransactions: z.number().int(),
  affiliatePayout: decimalAmount,
  merchantRevenue: decimalAmount,
  approvedAffiliatePayout: decimalAmount,
  approvedMerchantRevenue: decimalAmount,
});

/** Counts and exact totals (decimal strings) as JSON. */
export function totalsJson(t: StatisticsTotals): z.output<typeof totalsSchema> {
  return {
    transactions: t.transactions,
    approvedTransactions: t.approvedTransactions,
    affiliatePayout: formatMoney(t.affiliatePayout),
    merchantRevenue: formatMoney(t.merchantRevenue),
    approvedAffiliatePayout: formatMoney(t.approvedAffiliatePayout),
    approvedMerchantRevenue: formatMoney(t.approvedMerchantRevenue),
  };
}

/** A row of the hourly report as the admin API answers it. */
export const hourlyRowSchema = z
  .object({
    hour: isoInstant.meta({ description: 'the UTC hour it starts' }),
    campaignId: z.number().int(),
    affiliateId: z.number().int(),
    ...totalsSchema.shape,
  })
  .meta({ id: 'HourlyRow' });

/** A row of the hourly report. */
export function hourlyRowJson(row: HourlyStatistics): z.output<typeof hourlyRowSchema> {
  return {
    hour: new Date(row.hour).toISOString(),
    campaignId: row.campaignId,
    affiliateId: row.affiliateId,
    ...totalsJson(row),
  };
}

/** A row of the daily report as the admin API answers it. */
export const dailyRowSchema = z
  .object({
    date: z.string().meta({ description: 'the reporting day (REPORTING_TIMEZONE), YYYY-MM-DD' }),
    campaignId: z.number().int(),
    affiliateId: z.number().int(),
    ...totalsSchema.shape,
    computedAt: isoInstant,
  })
  .meta({ id: 'DailyRow' });

/** A row of the daily report. */
export function dailyRowJson(row: DailyStatistics): z.output<typeof dailyRowSchema> {
  return {
    date: row.date,
    campaignId: row.campaignId,
    affiliateId: row.affiliateId,
    ...totalsJson(row),
    computedAt: new Date(row.computedAt).toISOString(),
  };
}

/** A roll-up result as the admin API answers it. */
export const rollupSchema = z
  .object({ from: isoInstant.nullable(), through: isoInstant.nullable() })
  .meta({ id: 'Rollup', description: 'the roll-up watermark before and after (null: nothing rolled up)' });

/** A roll-up result: the watermark before and after (null: nothing was rolled up before). */
export function rollupJson(result: RollupResult): z.output<typeof rollupSchema> {
  return {
    from: isoOrNull(result.from > 0 ? result.from : null),
    through: isoOrNull(result.through > 0 ? result.through : null),
  };
}

function differenceJson(d: ConsistencyDifference) {
  return {
    campaignId: d.campaignId,
    affiliateId: d.affiliateId,
    fields: d.fields,
    statistics: d.statistics && totalsJson(d.statistics),
    transactions: d.transactions && totalsJson(d.transactions),
  };
}

/** A completed nightly run as the admin API answers it. */
export const nightlyReportSchema = z
  .object({
    date: z.string(),
    timeZone: z.string(),
    hours: z.object({ from: isoInstant.nullable(), to: isoInstant.nullable() }),
    startedAt: isoInstant.nullable(),
    completedAt: isoInstant.nullable(),
    rollup: rollupSchema,
    dailyRows: z.number().int(),
    failedGroups: z.array(z.object({ date: z.string(), campaignId: z.number().int(), reason: z.string() })),
    refreshedDates: z.array(z.string()),
    consistency: z.object({
      ok: z.boolean(),
      differences: z.array(
        z.object({
          campaignId: z.number().int(),
          affiliateId: z.number().int(),
          fields: z.array(z.string()),
          statistics: totalsSchema.nullable(),
          transactions: totalsSchema.nullable(),
        }),
      ),
    }),
  })
  .meta({ id: 'NightlyReport' });

/** A completed nightly run. */
export function nightlyReportJson(report: NightlyReport): z.output<typeof nightlyReportSchema> {
  return {
    date: report.date,
    timeZone: report.timeZone,
    hours: { from: isoOrNull(report.hours.from), to: isoOrNull(report.hours.to) },
    startedAt: isoOrNull(report.startedAt),
    completedAt: isoOrNull(report.completedAt),
    rollup: rollupJson(report.rollup),
    dailyRows: report.dailyRows,
    failedGroups: report.failedGroups,
    refreshedDates: report.refreshedDates,
    consistency: { ok: report.consistency.ok, differences: report.consistency.differences.map(differenceJson) },
  };
}

/** The processing state as the admin API answers it. */
export const statusSchema = z
  .object({
    nightly: z.object({
      inProgress: z.boolean().meta({ description: 'modifications are refused while true' }),
      startedAt: isoInstant.nullable(),
      lastCompletedAt: isoInstant.nullable(),
      held: z.boolean().meta({ description: 'held by hand (PUT /processing/nightly)' }),
      run: z
        .object({
          date: z.string(),
          startedAt: isoInstant.nullable(),
          leaseExpiresAt: isoInstant.nullable(),
          live: z.boolean(),
        })
        .nullable(),
      interruptions: z.number().int(),
      interruptedDays: z.array(
        z.object({ date: z.string(), interruptedAt: isoInstant.nullable(), completedAt: isoInstant.nullable() }),
      ),
    }),
    hourly: z.object({ rolledUpThrough: isoInstant.nullable(), lastRunAt: isoInstant.nullable() }),
  })
  .meta({ id: 'ProcessingStatus' });

/** The processing state. */
export function statusJson(status: ProcessingStatus): z.output<typeof statusSchema> {
  return {
    nightly: {
      inProgress: status.nightly.inProgress,
      startedAt: isoOrNull(status.nightly.startedAt),
      lastCompletedAt: isoOrNull(status.nightly.lastCompletedAt),
      held: status.nightly.held,
      run: status.nightly.run && {
        date: status.nightly.run.date,
        startedAt: isoOrNull(status.nightly.run.startedAt),
        leaseExpiresAt: isoOrNull(status.nightly.run.leaseExpiresAt),
        live: status.nightly.run.live,
      },
      interruptions: status.nightly.interruptions,
      interruptedDays: status.nightly.interruptedDays.map((day) => ({
        date: day.date,
        interruptedAt: isoOrNull(day.interruptedAt),
        completedAt: isoOrNull(day.completedAt),
      })),
    },
    hourly: {
      rolledUpThrough: isoOrNull(status.hourly.rolledUpThrough),
      lastRunAt: isoOrNull(status.hourly.lastRunAt),
    },
  };
}
