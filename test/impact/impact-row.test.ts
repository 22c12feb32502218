import { parseMoney } from '../../src/core/money';
import { parseImpactRow } from '../../src/impact/impact-row';

/** Pairs from an object, in its order. */
const row = (values: Record<string, string>) => Object.entries(values).map(([name, value]) => ({ name, value }));
const parse = (values: Record<string, string>, currency = 'USD') => parseImpactRow(row(values), currency);
const money = (text: string) => parseMoney(text) as bigint;

describe('parseImpactRow', () => {
  describe('accepts', () => {
    it('an order row by ActionId, with every order column read', () => {
      expect(
        parse({
          ActionId: ' 1000.2000.3000 ',
          Oid: 'ORD-1',
          ActionTrackerId: '12345',
          Amount: '19.90',
          Reason: ' ORDER_UPDATE ',
          CurrencyCode: 'usd',
          CustomerStatus: 'existing',
        }),
      ).toEqual({
        ok: true,
        row: {
          actionId: '1000.2000.3000',
          oid: 'ORD-1',
          actionTrackerId: 12345,
          amount: money('19.90'),
          reason: 'ORDER_UPDATE',
          currencyCode: 'USD',
          customerStatus: 'EXISTING',
          items: [],
          mobile: false,
        },
      });
    });

    it('a row by Oid and ActionTrackerId, empty values read as absent', () => {
      expect(parse({ ActionId: '', Oid: 'ORD-1', ActionTrackerId: '7', Amount: '', Reason: 'REJECTED' })).toEqual({
        ok: true,
        row: {
          actionId: null,
          oid: 'ORD-1',
          actionTrackerId: 7,
          amount: null,
          reason: 'REJECTED',
          currencyCode: null,
          customerStatus: null,
          items: [],
          mobile: false,
        },
      });
    });

    it('numbered items in number order, the unnumbered Amount staying the order amount', () => {
      const parsed = parse({
        Oid: 'ORD-1',
        ActionTrackerId: '7',
        Amount: '30',
        Sku2: 'B',
        Quantity2: '0',
        Sku1: 'A',
        Amount1: '30.00',
        Category1: 'Shoes',
        Name1: 'Runner',
        Sku3: '',
        Quantity3: '',
      });
      expect(parsed).toMatchObject({
        ok: true,
        row: {
          amount: money('30'),
          items: [
            { sku: 'A', quantity: null, amount: money('30'), category: 'Shoes', name: 'Runner' },
            { sku: 'B', quantity: 0, amount: null, category: null, name: null },
          ],
        },
      });
    });

    it("a one-item-per-row line, whose Amount is the item's", () => {
      expect(parse({ Oid: 'ORD-1', ActionTrackerId: '7', Sku: 'A', Quantity: '2', Amount: '10.5' })).toMatchObject({
        ok: true,
        row: { amount: null, items: [{ sku: 'A', quantity: 2, amount: money('10.5'), category: null }] },
      });
    });

    it('a mobile row', () => {
      expect(parse({ ActionId: 'M123', Amount: '0', Reason: 'REJECTED' })).toMatchObject({
        ok: true,
        row: { actionId: 'M123', amount: 0n, reason: 'REJECTED', mobile: true },
      });
    });

    it('an Amount of exactly 8 digits, leading zeros not counted', () => {
      expect(parse({ ActionId: 'A', Amount: '123456.78' })).toMatchObject({
        ok: true,
        row: { amount: money('123456.78') },
      });
      expect(parse({ ActionId: 'A', Amount: '00012345678' })).toMatchObject({ ok: true });
    });

    it('a CurrencyCode matching the account currency in any case', () => {
      expect(parse({ ActionId: 'A', CurrencyCode: 'eur' }, 'EUR')).toMatchObject({
        ok: true,
        row: { currencyCode: 'EUR' },
      });
    });
  });

  describe('refuses as MALFORMED, naming the column', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      [
        'no identifier',
        { Amount: '1.00' },
        'ActionId: missing: a row names its action by ActionId, or by Oid and ActionTrackerId',
      ],
      [
        'empty identifiers',
        { ActionId: ' ', Oid: '', Amount: '1' },
        'ActionId: missing: a row names its action by ActionId, or by Oid and ActionTrackerId',
      ],
      [
        'an Oid without ActionTrackerId',
        { Oid: 'ORD-1', Amount: '1' },
        'ActionTrackerId: missing: a row that names its action by Oid needs the ActionTrackerId',
      ],
      [
        'an ActionTrackerId that is not a number',
        { Oid: 'O', ActionTrackerId: 'abc' },
        'ActionTrackerId: abc is not a whole number from 1 to 2147483647',
      ],
      [
        'an ActionTrackerId of 0',
        { Oid: 'O', ActionTrackerId: '0' },
        'ActionTrackerId: 0 is not a whole number from 1 to 2147483647',
      ],
      [
        'an ActionTrackerId past 2147483647',
        { ActionId: 'A', ActionTrackerId: '2147483648' },
        'ActionTrackerId: 2147483648 is not a whole number from 1 to 2147483647',
      ],
      [
        'a negative ActionTrackerId',
        { Oid: 'O', ActionTrackerId: '-5' },
        'ActionTrackerId: -5 is not a whole number from 1 to 2147483647',
      ],
      [
        'an Amount with 3 decimals',
        { ActionId: 'A', Amount: '12.345' },
        'Amount: 12.345 is not a decimal with at most 2 decimals',
      ],
      ['a negative Amount', { ActionId: 'A', Amount: '-1.00' }, 'Amount: -1.00 is not a plain decimal number ≥ 0'],
      [
        'an Amount with a thousands separator',
        { ActionId: 'A', Amount: '1,000.00' },
        'Amount: 1,000.00 is not a plain decimal number ≥ 0',
      ],
      [
        'an Amount with a currency sign',
        { ActionId: 'A', Amount: '$5' },
        'Amount: $5 is not a plain decimal number ≥ 0',
      ],
      ['an Amount in exponent form', { ActionId: 'A', Amount: '1e3' }, 'Amount: 1e3 is not a plain decimal number ≥ 0'],
      [
        'an Amount without a leading digit',
        { ActionId: 'A', Amount: '.5' },
        'Amount: .5 is not a plain decimal number ≥ 0',
      ],
      ['an Amount of 9 digits', { ActionId: 'A', Amount: '1234567.89' }, 'Amount: 1234567.89 has more than 8 digits'],
      [
        'an item Amount with 3 decimals',
        { Oid: 'O', ActionTrackerId: '1', Sku1: 'A', Amount1: '1.001' },
        'Amount1: 1.001 is not a decimal with at most 2 decimals',
      ],
      [
        'a Quantity with decimals',
        { Oid: 'O', ActionTrackerId: '1', Sku: 'A', Quantity: '1.5' },
        'Quantity: 1.5 is not a whole number ≥ 0',
      ],
      [
        'a negative numbered Quantity',
        { Oid: 'O', ActionTrackerId: '1', Sku2: 'A', Quantity2: '-1' },
        'Quantity2: -1 is not a whole number ≥ 0',
      ],
      [
        'a huge Quantity',
        { Oid: 'O', ActionTrackerId: '1', Sku1: 'A', Quantity1: '99999999999' },
        'Quantity1: 99999999999 is not a whole number ≥ 0',
      ],
      [
        'an item without Sku',
        { Oid: 'O', ActionTrackerId: '1', Quantity1: '1' },
        'Sku1: missing: an item line needs its Sku',
      ],
      [
        'an item with neither Quantity nor Amount',
        { Oid: 'O', ActionTrackerId: '1', Sku2: 'A', Category2: 'C' },
        'Amount2: missing: an item line needs its Quantity or its Amount',
      ],
      [
        'a one-item row with neither Quantity nor Amount',
        { Oid: 'O', ActionTrackerId: '1', Sku: 'A' },
        'Amount: missing: an item line needs its Quantity or its Amount',
      ],
      [
        'a mobile row without Amount',
        { ActionId: 'M1', Amount: '', Reason: 'ORDER_UPDATE' },
        'Amount: missing: a mobile action row needs the final Amount',
      ],
      [
        'a CustomerStatus other than NEW/EXISTING',
        { ActionId: 'A', CustomerStatus: 'RETURNING' },
        'CustomerStatus: RETURNING is neither NEW nor EXISTING',
      ],
      [
        'a CustomerStatus on an Amount 0 reversal',
        { ActionId: 'A', Amount: '0.00', CustomerStatus: 'NEW' },
        'CustomerStatus: not allowed on a reversal (Amount 0 or Reason REJECTED)',
      ],
      [
        'a CustomerStatus on a REJECTED row',
        { ActionId: 'A', Reason: 'rejected', CustomerStatus: 'NEW' },
        'CustomerStatus: not allowed on a reversal (Amount 0 or Reason REJECTED)',
      ],
      [
        'another currency',
        { ActionId: 'A', CurrencyCode: 'EUR' },
        "CurrencyCode: EUR is not the account's currency, USD",
      ],
      [
        'a row longer than its header',
        { ActionId: 'A', __extra_fields__: '2' },
        'the row has 2 more field(s) than the header has columns',
      ],
    ];
    it.each(cases)('%s', (_, values, message) => {
      expect(parse(values)).toEqual({ ok: false, code: 'MALFORMED', message });
    });

    it('cuts a long value short in the message', () => {
      const parsed = parse({ ActionId: 'A', Amount: '9'.repeat(5000) });
      expect(parsed).toEqual({
        ok: false,
        code: 'MALFORMED',
        message: `Amount: ${'9'.repeat(40)}… has more than 8 digits`,
      });
    });
  });
});
