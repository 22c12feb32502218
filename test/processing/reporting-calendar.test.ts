import { addDays, isReportingDate, ReportingCalendar } from '../../src/processing/reporting-calendar';

const HOUR = 3_600_000;
const utc = (text: string) => Date.parse(text);

describe('ReportingCalendar', () => {
  it('makes a UTC day of the 24 hours of its UTC date', () => {
    expect(new ReportingCalendar('UTC').spanOf('2026-11-25')).toEqual({
      from: utc('2026-11-25T00:00:00Z'),
      to: utc('2026-11-26T00:00:00Z'),
    });
  });

  it('makes a Tokyo day of hours from two UTC dates', () => {
    const { from, to } = new ReportingCalendar('Asia/Tokyo').spanOf('2026-11-25');
    expect(new Date(from).toISOString()).toBe('2026-11-24T15:00:00.000Z');
    expect(new Date(to).toISOString()).toBe('2026-11-25T15:00:00.000Z');
  });

  it('gives a Denver day 23 hours when DST starts and 25 when it ends', () => {
    const denver = new ReportingCalendar('America/Denver');
    const spring = denver.spanOf('2026-03-08');
    expect(new Date(spring.from).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect((spring.to - spring.from) / HOUR).toBe(23);
    const autumn = denver.spanOf('2026-11-01');
    expect(new Date(autumn.from).toISOString()).toBe('2026-11-01T06:00:00.000Z');
    expect((autumn.to - autumn.from) / HOUR).toBe(25);
  });

  it('spans a half-hour or 45-minute zone’s day from its own local midnight, not an hour boundary', () => {
    // Kolkata (+05:30) midnight is 18:30 UTC; Kathmandu (+05:45) 18:15 UTC; Adelaide 13:30 UTC (+10:30, summer).
    const kolkata = new ReportingCalendar('Asia/Kolkata').spanOf('2026-11-25');
    expect([new Date(kolkata.from).toISOString(), new Date(kolkata.to).toISOString()]).toEqual([
      '2026-11-24T18:30:00.000Z',
      '2026-11-25T18:30:00.000Z',
    ]);
    const kathmandu = new ReportingCalendar('Asia/Kathmandu').spanOf('2026-11-25');
    expect([new Date(kathmandu.from).toISOString(), new Date(kathmandu.to).toISOString()]).toEqual([
      '2026-11-24T18:15:00.000Z',
      '2026-11-25T18:15:00.000Z',
    ]);
    const adelaide = new ReportingCalendar('Australia/Adelaide').spanOf('2026-11-25');
    expect([new Date(adelaide.from).toISOString(), new Date(adelaide.to).toISOString()]).toEqual([
      '2026-11-24T13:30:00.000Z',
      '2026-11-25T13:30:00.000Z',
    ]);
    // Adelaide's DST starts on 2026-10-04 at 02:00 (+09:30 → +10:30): a 23-hour day.
    const spring = new ReportingCalendar('Australia/Adelaide').spanOf('2026-10-04');
    expect([new Date(spring.from).toISOString(), (spring.to - spring.from) / HOUR]).toEqual([
      '2026-10-03T14:30:00.000Z',
      23,
    ]);
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
