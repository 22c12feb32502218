import { HOUR_MS } from '../core/hours';

const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 900_000;

/** A reporting day, `YYYY-MM-DD`, in the reporting time zone. */
export type ReportingDate = string;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD` (rejects 2026-02-30). */
export function isReportingDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = new Date(Date.UTC(y, m - 1, d));
  return utc.getUTCFullYear() === y && utc.getUTCMonth() === m - 1 && utc.getUTCDate() === d;
}

/** The date `days` calendar days after `date` (negative: before). */
export function addDays(date: ReportingDate, days: number): ReportingDate {
  const match = DATE_PATTERN.exec(date);
  if (!match) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + days * DAY_MS)
    .toISOString()
    .slice(0, 10);
}

/**
 * Local dates and times of instants in one IANA time zone. Intl knows every zone's offsets and DST rules,
 * so no time-zone library is needed; formatters are built once per calendar because they are costly.
 */
export class ReportingCalendar {
  private readonly parts: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
  }

  /** The local date and minute of the day (0–1439) of an instant. */
  localTime(at: number): { date: ReportingDate; minuteOfDay: number } {
    const fields: Record<string, string> = {};
    for (const part of this.parts.formatToParts(new Date(at))) fields[part.type] = part.value;
    return {
      date: `${fields.year}-${fields.month}-${fields.day}`,
      minuteOfDay: Number(fields.hour) * 60 + Number(fields.minute),
    };
  }

  /** The local date of an instant. */
  dateOf(at: number): ReportingDate {
    return this.localTime(at).date;
  }

  /** The local day before the one `at` falls in: the day nightly processing covers by default. */
  previousDate(at: number): ReportingDate {
    return addDays(this.dateOf(at), -1);
  }

  /**
   * The instants a local day spans, `from` (its local midnight) inclusive to `to` (the next one)
   * exclusive: 24 hours usually, 23 or 25 across a DST change, and not on UTC hour boundaries in zones
   * whose offset is not a whole number of hours (Asia/Kolkata +05:30, Asia/Kathmandu +05:45). Hourly
   * statistics are kept per UTC hour; nightly processing takes the whole hours inside the span from them
   * and the part-hours at its ends from the transactions, so a day holds exactly its own local hours.
   */
  spanOf(date: ReportingDate): { from: number; to: number } {
    return { from: this.startOf(date), to: this.startOf(addDays(date, 1)) };
  }

  /**
   * The first instant whose local date is `date` or later (local dates only grow with time): the first
   * such UTC hour start, then back a quarter of an hour at a time (every zone's offset today is a whole
   * number of quarter hours) while the local date still is.
   */
  private startOf(date: ReportingDate): number {
    const midnightUtc = Date.parse(`${date}T00:00:00Z`);
    // Every zone's offset lies within −12 h … +14 h, so local midnight lies in this range of UTC hours.
    for (let hour = midnightUtc - 15 * HOUR_MS; hour <= midnightUtc + 13 * HOUR_MS; hour += HOUR_MS) {
      if (this.dateOf(hour) < date) continue;
      let start = hour;
      while (this.dateOf(start - QUARTER_HOUR_MS) >= date && start - QUARTER_HOUR_MS > hour - HOUR_MS)
        start -= QUARTER_HOUR_MS;
      return start;
    }
    throw new Error(`no instant of ${date} found in ${this.timeZone}`);
  }
}
