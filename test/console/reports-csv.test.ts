import { reportCsv } from '../../src/console/views/reports-view';
import type { StatisticsReport } from '../../src/reports/statistics-report';

describe('the Reports CSV', () => {
  it('writes the table’s columns and rows, a negative amount escaped as text against spreadsheet formulas', () => {
    const report: StatisticsReport = {
      query: { granularity: 'day', from: '2026-12-01', to: '2026-12-01' },
      timeZone: 'UTC',
      truncated: false,
      dispositionCodes: [],
      rows: [
        {
          period: '2026-12-01',
          campaignId: 7,
          affiliateId: 9,
          transactions: 3,
          approved: 2,
          payout: 3000n + 1000n + 2000n,
          revenue: -40000n,
          reversals: 0,
          reversalsByCode: new Map(),
        },
      ],
    };
    expect(reportCsv(report)).toBe(
      'Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals\r\n2026-12-01,7,9,3,2,0.60,"\'-4.00",0\r\n',
    );
  });
});
