import {
  csvField,
  formatResultsCsv,
  parseResultsCsv,
  resultsCsvHeader,
  resultsCsvRecord,
} from '../../src/batch/results-csv';
import type { RowResult } from '../../src/core/row-result';

const row = (fields: Partial<RowResult> = {}): RowResult => ({
  rowNumber: 1,
  succeeded: true,
  message: 'Succeeded',
  transactionId: '1001',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ...fields,
});

describe('results CSV', () => {
  it('starts with the documented header', () => {
    expect(resultsCsvHeader()).toBe('Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n');
  });

  it('writes True/False and leaves plain values unquoted', () => {
    expect(resultsCsvRecord(row())).toBe('1,True,Succeeded,1001,,,\r\n');
    expect(
      resultsCsvRecord(
        row({
          rowNumber: 7,
          succeeded: false,
          message: 'Permanent failure: Invalid transaction specified',
          transactionId: '',
          clickId: 'abc',
        }),
      ),
    ).toBe('7,False,Permanent failure: Invalid transaction specified,,abc,,\r\n');
  });

  it('quotes commas, quotes, line breaks and edge spaces, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('plain-value_1')).toBe('plain-value_1');
  });

  it('reads back exactly what it wrote', () => {
    const results = [
      row(),
      row({
        rowNumber: 2,
        succeeded: false,
        message: 'Permanent failure: Invalid parameter value for AP',
        transactionId: '',
        clickId: 'a,"b"\r\nc',
        merchantReferenceId: ' x ',
        cid: '100',
      }),
      row({ rowNumber: 3, transactionId: 'é ü ß 日本' }),
    ];
    expect(parseResultsCsv(formatResultsCsv(results))).toEqual(results);
  });

  it('refuses a file that is not a results file', () => {
    expect(() => parseResultsCsv('Password,TransactionID\r\nx,1\r\n')).toThrow('not a results file');
  });
});
