import fc from 'fast-check';
import {
  dispositionOf,
  eventTypeProblems,
  payoutFor,
  STANDARD_DISPOSITION_CODES,
  type DispositionCode,
} from '../../src/core/event-type';
import { formatMoney, parseMoney } from '../../src/core/money';

const money = (text: string) => parseMoney(text) as bigint;
const percent = (value: string) => ({ type: 'percent' as const, value: money(value) });

describe('payoutFor', () => {
  it.each([
    ['10', '0.05', '0.01'],
    ['33.3333', '10.00', '3.33'],
    ['12.5', '100.00', '12.50'],
    ['10', '0.04', '0.00'],
    ['10', '0.0499', '0.00'],
    ['50', '0.01', '0.01'],
    ['49.9999', '0.01', '0.00'],
    ['100', '1234.5678', '1234.57'],
    ['0', '500.00', '0.00'],
    ['7.5', '0', '0.00'],
    ['100', '99999999.99', '99999999.99'],
  ])('pays %s %% of %s as %s (half-up to cents)', (rate, amount, expected) => {
    expect(formatMoney(payoutFor(percent(rate), money(amount), money('999')))).toBe(expected);
  });

  it('keeps the current payout under a fixed rule, whatever the amount', () => {
    const rule = { type: 'fixed' as const, value: money('5.00') };
    expect(payoutFor(rule, money('10.00'), money('4.20'))).toBe(money('4.20'));
    expect(payoutFor(rule, 0n, money('4.20'))).toBe(money('4.20'));
  });

  it('always answers whole cents, within half a cent of the exact share', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, 999_999_999_999n), fc.bigInt(0n, 1_000_000n), (amount, rate) => {
        const payout = payoutFor({ type: 'percent', value: rate }, amount, 0n);
        expect(payout % 100n).toBe(0n);
        // payout (ten-thousandths) vs exact = amount × rate / 10⁶: |payout × 10⁶ − amount × rate| ≤ ½ cent.
        const error = payout * 1_000_000n - amount * rate;
        expect(error <= 50n * 1_000_000n && error > -50n * 1_000_000n).toBe(true);
      }),
    );
  });
});

describe('dispositionOf', () => {
  const eventType = {
    dispositionCodes: [
      { code: 'Late_Return', effect: 'reverse' },
      { code: 'VIP.ok', effect: 'approve' },
      { code: 'price-fix', effect: 'modify' },
    ] as DispositionCode[],
  };

  it('reads every standard code in any case, REJECTED as a reversal and RESET as a reset', () => {
    for (const code of STANDARD_DISPOSITION_CODES) {
      const effect = code === 'REJECTED' ? 'reverse' : code === 'RESET' ? 'reset' : 'modify';
      expect(dispositionOf(eventType, code)).toEqual({ code, effect });
      expect(dispositionOf(eventType, code.toLowerCase())).toEqual({ code, effect });
      expect(dispositionOf({ dispositionCodes: [] }, code[0] + code.slice(1).toLowerCase())).toEqual({ code, effect });
    }
    expect(STANDARD_DISPOSITION_CODES).toHaveLength(15);
  });

  it('reads custom codes in exact case only, with their own effect', () => {
    expect(dispositionOf(eventType, 'Late_Return')).toEqual({ code: 'Late_Return', effect: 'reverse' });
    expect(dispositionOf(eventType, 'VIP.ok')).toEqual({ code: 'VIP.ok', effect: 'approve' });
    expect(dispositionOf(eventType, 'price-fix')).toEqual({ code: 'price-fix', effect: 'modify' });
    expect(dispositionOf(eventType, 'LATE_RETURN')).toBeNull();
    expect(dispositionOf(eventType, 'late_return')).toBeNull();
  });

  it('knows no other reason', () => {
    for (const reason of ['', 'ORDER UPDATE', 'REJECTED ', 'unknown', 'Late_Return2'])
      expect(dispositionOf(eventType, reason)).toBeNull();
  });
});

describe('eventTypeProblems', () => {
  it('accepts good settings', () => {
    expect(
      eventTypeProblems({
        lockingDays: 730,
        payout: percent('100'),
        dispositionCodes: [
          { code: 'a', effect: 'modify' },
          { code: 'A', effect: 'reverse' },
          { code: 'x'.repeat(64), effect: 'approve' },
        ],
      }),
    ).toEqual([]);
    expect(eventTypeProblems({ lockingDays: 0, payout: { type: 'fixed', value: money('1000') } })).toEqual([]);
  });

  it.each([
    [{ lockingDays: 731 }, 'lockingDays'],
    [{ lockingDays: -1 }, 'lockingDays'],
    [{ lockingDays: 1.5 }, 'lockingDays'],
    [{ payout: percent('100.0001') }, 'payout.value'],
    [{ dispositionCodes: [{ code: '', effect: 'modify' }] }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: [{ code: 'x'.repeat(65), effect: 'modify' }] }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: [{ code: 'has space', effect: 'modify' }] }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: [{ code: 'rejected', effect: 'modify' }] }, 'dispositionCodes.0.code'],
    [{ dispositionCodes: [{ code: 'Order_Update', effect: 'reverse' }] }, 'dispositionCodes.0.code'],
    [
      {
        dispositionCodes: [
          { code: 'ok', effect: 'modify' },
          { code: 'ok', effect: 'reverse' },
        ],
      },
      'dispositionCodes.1.code',
    ],
    [{ dispositionCodes: [{ code: 'ok', effect: 'delete' }] }, 'dispositionCodes.0.effect'],
  ])('refuses %j naming %s', (settings, field) => {
    const problems = eventTypeProblems(settings as Parameters<typeof eventTypeProblems>[0]);
    expect(problems.map((p) => p.field)).toEqual([field]);
  });
});
