import { addDays, isReportingDate, ReportingCalendar } from '../../src/processing/reporting-calendar';

const HOUR = 3_600_000;
const utc = (text: string) => Date.parse(text);

describe('ReportingCalendar', () => {
  it('makes a UTC day of the 24 hours of its UTC date', () => {
    expect(new ReportingCalendar('UTC').hoursOf('2026-11-25')).toEqual({ from: utc('2026-11-25T00:00:00Z'), to: utc('2026-11-26T00:00:00Z') });
  });

  it('makes a Tokyo day of hours from two UTC dates', () => {
    const { from, to } = new ReportingCalendar('Asia/Tokyo').hoursOf('2026-11-25');
    expect(new Date(from).toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(new Date(to).toISOString()).toBe('2026-11-25T15:00:00.000Z');
  });

  it('gives a Denver day 23 hours when DST starts and 25 when it ends', () => {
    const denver = new ReportingCalendar('America/Denver');
    const spring = denver.hoursOf('2026-03-08');
    expect(new Date(spring.from).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect((spring.to - spring.from) / HOUR).toBe(23);
    const autumn = denver.hoursOf('2026-11-01');
    expect(new Date(autumn.from).toISOString()).toBe('2026-11-01T06:00:00.000Z');
    expect((autumn.to - autumn.from) / HOUR).toBe(25);
  });

  it('gives a half-hour zone the UTC hours that begin on its date', () => {
    // Kolkata midnight is 18:30 UTC: the hour from 18:00 UTC began at 23:30 on the day before.
    const { from, to } = new ReportingCalendar('Asia/Kolkata').hoursOf('2026-11-25');
    expect(new Date(from).toISOString()).toBe('2026-11-24T19:00:00.000Z');
    expect(new Date(to).toISOString()).toBe('2026-11-25T19:00:00.000Z');
  });

  it('reads local dates and minutes, and the previous local day', () => {
    const denver = new ReportingCalendar('America/Denver');
    expect(denver.localTime(utc('2026-11-25T06:30:00Z'))).toEqual({ date: '2026-11-24', minuteOfDay: 23 * 60 + 30 });
    expect(denver.previousDate(utc('2026-11-25T06:30:00Z'))).toBe('2026-11-23');
    expect(new ReportingCalendar('UTC').previousDate(utc('2026-03-01T00:00:00Z'))).toBe('2026-02-28');
  });
});

describe('reporting dates', () => {
  it('accepts real calendar dates only', () => {
    expect(isReportingDate('2028-02-29')).toBe(true);
    expect(isReportingDate('2026-02-29')).toBe(false);
    expect(isReportingDate('2026-13-01')).toBe(false);
    expect(isReportingDate('2026-1-01')).toBe(false);
    expect(isReportingDate('20261125')).toBe(false);
  });

  it('adds days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});
