import { parse } from 'csv-parse/sync';
import { resultsCsvHeader } from '../../src/batch/results-csv';
import type { RowResult } from '../../src/core/row-result';
import {
  impactResultsCsvHeader,
  impactResultsCsvRecord,
  isImpactResultsCsv,
  parseImpactResultsCsv,
  resultsCsvFor,
} from '../../src/impact/impact-results-csv';
import { ACTION_TRACKER_ID_INVALID, impactMessage } from '../../src/impact/result-codes';

const result = (fields: Partial<RowResult>): RowResult => ({
  rowNumber: 1,
  succeeded: false,
  message: '',
  transactionId: '',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ...fields,
});

describe('impact results CSV', () => {
  it('has the header Line,Status,Code,Message,ActionId,Oid,ActionTrackerId,Sku', () => {
    expect(impactResultsCsvHeader()).toBe('Line,Status,Code,Message,ActionId,Oid,ActionTrackerId,Sku\r\n');
  });

  it('writes the status of the code, quotes the long code and message, and escapes formulas', () => {
    const record = impactResultsCsvRecord(
      result({
        rowNumber: 12,
        code: ACTION_TRACKER_ID_INVALID,
        message: impactMessage(ACTION_TRACKER_ID_INVALID),
        actionId: null,
        oid: '+cmd|calc',
        actionTrackerId: '99',
        sku: '-2+3',
      }),
    );
    expect(record).toBe(
      `12,Validation,ActionTrackerId: ActionTrackerId value is invalid,` +
        `ActionTrackerId value is invalid. This should correspond to the Event Type ID entered.,,"'+cmd|calc",99,"'-2+3"\r\n`,
    );
    // A spreadsheet sees no runnable cell.
    expect((parse(record) as string[][])[0].some((cell) => /^[=+\-@]/.test(cell))).toBe(false);
  });

  it('reads its own file back, escapes undone', () => {
    const text =
      impactResultsCsvHeader() +
      impactResultsCsvRecord(
        result({ rowNumber: 1, succeeded: true, code: 'REVERSED', message: impactMessage('REVERSED'), oid: '=1+2' }),
      ) +
      impactResultsCsvRecord(result({ rowNumber: 2, code: 'ALREADY_LOCKED', message: 'x', sku: 'S,1' }));
    expect(isImpactResultsCsv(text)).toBe(true);
    expect(parseImpactResultsCsv(text)).toEqual([
      {
        line: 1,
        status: 'OK',
        code: 'REVERSED',
        message: 'The action was reversed.',
        actionId: '',
        oid: '=1+2',
        actionTrackerId: '',
        sku: '',
      },
      {
        line: 2,
        status: 'Contract Error',
        code: 'ALREADY_LOCKED',
        message: 'x',
        actionId: '',
        oid: '',
        actionTrackerId: '',
        sku: 'S,1',
      },
    ]);
  });

  it('picks the writers by the batch kind', () => {
    expect(resultsCsvFor('impact').header()).toBe(impactResultsCsvHeader());
    expect(resultsCsvFor('lead-poster').header()).toBe(resultsCsvHeader());
    expect(isImpactResultsCsv(resultsCsvHeader())).toBe(false);
  });
});
