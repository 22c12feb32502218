import fc from 'fast-check';
import { formatMoney, MAX_MONEY, moneyFromColumn, moneyToColumn, MONEY_SCALE, parseMoney } from '../../src/core/money';

describe('parseMoney', () => {
  it.each([
    ['0', 0n],
    ['0.00', 0n],
    ['0.1', 1000n],
    ['.5', 5000n],
    ['0.0001', 1n],
    ['12.5', 125_000n],
    ['12.50', 125_000n],
    ['12.3456', 123_456n],
    ['99999999.9999', 999_999_999_999n],
    ['99999999999.9999', MAX_MONEY],
    ['00012.3400', 123_400n],
    ['000000000000001.00', 10_000n],
    ['0000000000000', 0n],
  ])('reads %j as %p ten-thousandths', (text, expected) => {
    expect(parseMoney(text)).toBe(expected);
  });

  it.each([
    '',
    '.',
    '-1',
    '+1',
    '-0',
    '1e3',
    '1E3',
    '1,000',
    '1 000',
    ' 1',
    '1 ',
    '1.23456',
    'abc',
    '0x10',
    'Infinity',
    'NaN',
    '1..2',
    '1.2.3',
    '١٢', // Arabic-Indic digits
    '１２', // full-width digits
    '100000000000', // one more than the largest whole part
    '99999999999.99999',
  ])('refuses %j', (text) => {
    expect(parseMoney(text)).toBeNull();
  });

  it('reads every plain decimal exactly, compared with an independent string computation', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,11}$/), fc.stringMatching(/^\d{0,4}$/), (whole, fraction) => {
        const text = fraction ? `${whole}.${fraction}` : whole;
        expect(parseMoney(text)).toBe(BigInt(`${whole}${fraction.padEnd(4, '0')}`));
      }),
    );
  });
});

describe('formatMoney', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.0001'],
    [1000n, '0.10'],
    [5000n, '0.50'],
    [1230n, '0.123'],
    [1234n, '0.1234'],
    [125_000n, '12.50'],
    [10_000n, '1.00'],
    [999_999_999_999n, '99999999.9999'],
    [MAX_MONEY, '99999999999.9999'],
    [-125_000n, '-12.50'],
    [-1n, '-0.0001'],
  ])('writes %p as %j', (value, text) => {
    expect(formatMoney(value)).toBe(text);
  });

  it('round-trips every amount from 0 to the maximum through its decimal string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_MONEY }), (value) => {
        const text = formatMoney(value);
        expect(text).toMatch(/^\d+\.\d{2,4}$/);
        expect(parseMoney(text)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the shortest form with two to four fraction digits of any parsed decimal', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 99_999_999_999n }),
        fc.integer({ min: 0, max: 9999 }),
        (whole, fraction) => {
          const value = whole * MONEY_SCALE + BigInt(fraction);
          const digits = String(fraction).padStart(4, '0');
          const expected = `${whole}.${digits.endsWith('00') ? digits.slice(0, 2) : digits.replace(/0$/, '')}`;
          expect(formatMoney(value)).toBe(expected);
        },
      ),
    );
  });
});

describe('money columns', () => {
  it('reads the column value of either driver as the same bigint', () => {
    expect(moneyFromColumn(125_000)).toBe(125_000n);
    expect(moneyFromColumn('125000')).toBe(125_000n);
    expect(moneyFromColumn(125_000n)).toBe(125_000n);
    expect(moneyFromColumn(Number(MAX_MONEY))).toBe(MAX_MONEY);
  });

  it('refuses a column value that is not a safe integer rather than rounding it', () => {
    expect(() => moneyFromColumn(12.5)).toThrow('money column holds a non-integer 12.5');
    expect(() => moneyFromColumn(2 ** 53)).toThrow();
  });

  it('binds an amount as the exact integer of ten-thousandths', () => {
    expect(moneyToColumn(1000n)).toBe(1000);
    expect(moneyToColumn(MAX_MONEY)).toBe(999_999_999_999_999);
    expect(Number.isSafeInteger(moneyToColumn(MAX_MONEY))).toBe(true);
  });
});
