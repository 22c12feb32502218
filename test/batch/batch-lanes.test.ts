import { lanesOf } from '../../src/batch/batch-processor';
import type { BatchRow } from '../../src/store/batch-store';

const row = (rowNumber: number, pairs: Record<string, string>): BatchRow => ({
  rowNumber,
  parameters: Object.entries(pairs).map(([name, value]) => ({ name, value })),
});

describe('lanesOf: rows that name one transaction run in file order', () => {
  it('puts rows naming the same transaction id (any spelling of the column, leading zeros) in one lane, in order', () => {
    const lanes = lanesOf([
      row(1, { TransactionID: '10', AP: '1' }),
      row(2, { ClickID: 'c-1', AP: '2' }),
      row(3, { transactionid: '010', AP: '3' }),
      row(4, { TransactionID: '11', AP: '4' }),
      row(5, { TRANSACTIONID: '10', AP: '5' }),
    ]);
    expect(lanes.map((lane) => lane.map((r) => r.rowNumber))).toEqual([[1, 3, 5], [2], [4]]);
  });

  it('groups click ids, and merchant references within their campaign only', () => {
    const lanes = lanesOf([
      row(1, { MerchantreferenceID: 'ORDER-1', CID: '100' }),
      row(2, { MerchantreferenceID: 'ORDER-1', CID: '200' }),
      row(3, { ClickID: 'k' }),
      row(4, { MerchantreferenceID: 'ORDER-1', CID: '100' }),
      row(5, { ClickID: 'k' }),
    ]);
    expect(lanes.map((lane) => lane.map((r) => r.rowNumber))).toEqual([[1, 4], [2], [3, 5]]);
  });

  it('gives each row without an identifier a lane of its own', () => {
    const lanes = lanesOf([row(1, { AP: '1' }), row(2, { TransactionID: '', AP: '2' })]);
    expect(lanes.map((lane) => lane.map((r) => r.rowNumber))).toEqual([[1], [2]]);
  });
});
