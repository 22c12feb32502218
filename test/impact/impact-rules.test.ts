import type { ActionRowChange } from '../../src/core/action';
import type { EventType } from '../../src/core/event-type';
import { parseMoney } from '../../src/core/money';
import type { Transaction } from '../../src/core/transaction';
import { ImpactRules } from '../../src/impact/impact-rules';
import type { ModificationCommand } from '../../src/modification/command';
import type { LockedChange } from '../../src/modification/rules';
import type { Outcome } from '../../src/modification/outcome';
import type { TransactionLookup } from '../../src/store/transaction-store';
import { FakeCatalogue } from '../support/fakes/modification-fakes';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const money = (text: string) => parseMoney(text)!;

const eventType = (id: number, overrides: Partial<EventType> = {}): EventType => ({
  id,
  campaignId: 1,
  name: `type ${id}`,
  lockingDays: 30,
  payout: { type: 'percent', value: money('10') },
  dispositionCodes: [
    { code: 'Store_Credit', effect: 'modify' },
    { code: 'CHARGEBACK_X', effect: 'reverse' },
    { code: 'OK_SHIP', effect: 'approve' },
  ],
  createdAt: 0,
  updatedAt: 0,
  ...overrides,
});

/** Rules over a catalogue of actions (by action id and by order) and event types, all in memory. */
function setUp(types: EventType[] = [eventType(7), eventType(8, { payout: { type: 'fixed', value: money('5') } })]) {
  const catalogue = new FakeCatalogue();
  catalogue.campaign(1);
  const byType = new Map(types.map((type) => [type.id, type]));
  const lookup = (found: Transaction[]): TransactionLookup => ({
    nightlyInProgress: catalogue.nightlyInProgress,
    found: found.map((transaction) => ({ transaction, campaign: catalogue.campaigns.get(transaction.campaignId)! })),
  });
  const rules = new ImpactRules({
    transactions: {
      findManyWithCampaign: async ({ actionIds }) =>
        lookup(catalogue.transactions.filter((t) => actionIds.includes(t.actionId))),
      findNewestByOrder: async (oid, eventTypeId) =>
        lookup(
          catalogue.transactions
            .filter((t) => t.merchantReferenceId === oid && t.eventTypeId === eventTypeId)
            .sort((a, b) => b.occurredAt - a.occurredAt || b.id - a.id)
            .slice(0, 1),
        ),
    },
    eventTypes: { get: async (id) => byType.get(id) ?? null },
  });
  const action = (id: number, values: Partial<Transaction> = {}) =>
    catalogue.transaction(id, 1, {
      actionId: `1000.${id}`,
      eventTypeId: 7,
      merchantRevenue: money('100'),
      affiliatePayout: money('10'),
      approved: false,
      occurredAt: NOW - DAY,
      lockingDate: NOW + 29 * DAY,
      original: {
        affiliatePayout: values.affiliatePayout ?? money('10'),
        merchantRevenue: values.merchantRevenue ?? money('100'),
        approved: false,
        items: values.items ?? null,
        customerStatus: null,
      },
      ...values,
    });
  return { catalogue, rules, action };
}

const row = (change: Partial<ActionRowChange>): ActionRowChange => ({
  actionId: null,
  oid: null,
  actionTrackerId: null,
  amount: null,
  reason: 'ORDER_UPDATE',
  currencyCode: null,
  customerStatus: null,
  items: [],
  ...change,
});

const command = (change: ActionRowChange, campaignIds: number[] | null = null): ModificationCommand => ({
  identifier: change.actionId
    ? { kind: 'action_id', actionId: change.actionId, campaignIds }
    : { kind: 'order', merchantReferenceId: change.oid!, eventTypeId: change.actionTrackerId!, campaignIds },
  changes: {},
  password: null,
  reason: change.reason,
  executeAffiliatePixel: false,
  action: change,
  clientIp: '',
  requestId: 'r',
  source: 'impact',
});

/** Pre-checks, then the change under the lock on `before` (the located action unless given). */
async function decide(
  rules: ImpactRules,
  change: ActionRowChange,
  before?: Transaction,
  campaignIds: number[] | null = null,
): Promise<LockedChange | Outcome> {
  const cmd = command(change, campaignIds);
  const located = await rules.precheck(cmd, undefined, 'before-lock');
  if ('kind' in located) return located;
  return rules.changeUnderLock(before ?? located.transaction, cmd, NOW);
}

const code = (result: LockedChange | Outcome) => ('kind' in result && result.kind === 'refused' ? result.code : result);

describe('impact.com rules, in their documented order', () => {
  it("refuses an unknown event type before looking for the action, and one that is not the action's after", async () => {
    const { rules, action } = setUp();
    action(1);
    expect(code(await decide(rules, row({ actionId: 'nope', actionTrackerId: 99 })))).toBe(
      'ActionTrackerId: ActionTrackerId value is invalid',
    );
    expect(code(await decide(rules, row({ actionId: 'nope', actionTrackerId: 7 })))).toBe('ACTION_NOT_FOUND');
    expect(code(await decide(rules, row({ actionId: '1000.1', actionTrackerId: 8, amount: 1n })))).toBe(
      'ActionTrackerId: ActionTrackerId value is invalid',
    );
  });

  it('finds the newest action of an order on an event type (latest occurredAt, then highest id)', async () => {
    const { rules, action } = setUp();
    action(1, { merchantReferenceId: 'O-1', occurredAt: NOW - 2 * DAY });
    action(2, { merchantReferenceId: 'O-1', occurredAt: NOW - DAY });
    action(3, { merchantReferenceId: 'O-1', occurredAt: NOW - DAY });
    action(4, { merchantReferenceId: 'O-1', occurredAt: NOW, eventTypeId: 8 });
    const result = await decide(rules, row({ oid: 'O-1', actionTrackerId: 7, amount: money('50') }));
    expect('transaction' in result && result.transaction.id).toBe(3);
    expect(code(await decide(rules, row({ oid: 'O-2', actionTrackerId: 7, amount: 1n })))).toBe('ACTION_NOT_FOUND');
  });

  it('takes standard codes in any case and custom codes in exact case only', async () => {
    const { rules, action } = setUp();
    action(1);
    expect(
      code(await decide(rules, row({ actionId: '1000.1', amount: money('90'), reason: 'item_returned' }))),
    ).toMatchObject({
      result: 'MODIFIED',
    });
    expect(
      code(await decide(rules, row({ actionId: '1000.1', amount: money('90'), reason: 'Store_Credit' }))),
    ).toMatchObject({
      result: 'MODIFIED',
    });
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: money('90'), reason: 'store_credit' })))).toBe(
      'BAD_DISPOSITION',
    );
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: money('90'), reason: null })))).toBe(
      'BAD_DISPOSITION',
    );
  });

  it('answers locked, reversed and approved actions with their codes, in that order', async () => {
    const { rules, action } = setUp();
    action(1, { lockingDate: NOW, state: 'REVERSED' });
    action(2, { state: 'REVERSED' });
    action(3, { state: 'APPROVED' });
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: 1n })))).toBe('ALREADY_LOCKED');
    expect(code(await decide(rules, row({ actionId: '1000.2', amount: 1n })))).toBe('ALREADY_REVERSED');
    expect(code(await decide(rules, row({ actionId: '1000.3', amount: 1n })))).toBe('ALREADY_APPROVED');
  });

  it('recalculates a percent payout half-up to cents and leaves a fixed payout alone', async () => {
    const { rules, action } = setUp();
    action(1);
    action(2, { eventTypeId: 8, affiliatePayout: money('5') });
    const percent = await decide(rules, row({ actionId: '1000.1', amount: money('33.35') }));
    expect('transaction' in percent && percent.transaction.affiliatePayout).toBe(money('3.34'));
    const fixed = await decide(rules, row({ actionId: '1000.2', amount: money('33.35') }));
    expect('transaction' in fixed && [fixed.transaction.merchantRevenue, fixed.transaction.affiliatePayout]).toEqual([
      money('33.35'),
      money('5'),
    ]);
  });

  it('reverses on Amount 0 whatever the code, and on a reversal code without an amount; 0 on 0 is no change', async () => {
    const { rules, action } = setUp();
    action(1);
    action(2, { merchantRevenue: 0n, affiliatePayout: 0n });
    for (const change of [
      row({ actionId: '1000.1', amount: 0n, reason: 'OK_SHIP' }),
      row({ actionId: '1000.1', reason: 'REJECTED' }),
      row({ actionId: '1000.1', reason: 'CHARGEBACK_X' }),
    ]) {
      const result = await decide(rules, change);
      expect(
        'transaction' in result && [result.result, result.transaction.state, result.transaction.affiliatePayout],
      ).toEqual(['REVERSED', 'REVERSED', 0n]);
    }
    expect(code(await decide(rules, row({ actionId: '1000.2', amount: 0n })))).toBe('NO_CHANGE');
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: money('100') })))).toBe('NO_CHANGE');
  });

  it('approves with an approve code, and resets to the values the action was created with', async () => {
    const { rules, action } = setUp();
    action(1);
    const approved = await decide(rules, row({ actionId: '1000.1', reason: 'OK_SHIP', amount: money('80') }));
    expect(
      'transaction' in approved && [approved.result, approved.transaction.state, approved.transaction.affiliatePayout],
    ).toEqual(['APPROVED', 'APPROVED', money('8')]);
    const reversed = action(2, { state: 'REVERSED', merchantRevenue: 0n, affiliatePayout: 0n });
    reversed.original = { ...reversed.original!, merchantRevenue: money('100'), affiliatePayout: money('10') };
    const reset = await decide(rules, row({ actionId: '1000.2', reason: 'RESET' }), reversed);
    expect(
      'transaction' in reset && [reset.result, reset.transaction.state, reset.transaction.merchantRevenue],
    ).toEqual(['RESET', 'PENDING', money('100')]);
    expect(code(await decide(rules, row({ actionId: '1000.1', reason: 'reset' })))).toBe('NO_CHANGE');
  });

  it('changes item lines by SKU, refuses an unknown SKU and a quantity above the original', async () => {
    const { rules, action } = setUp();
    const items = [
      { sku: 'A', category: null, name: null, quantity: 2, amount: money('60') },
      { sku: 'B', category: null, name: null, quantity: 1, amount: money('40') },
    ];
    action(1, { items });
    const one = await decide(
      rules,
      row({ actionId: '1000.1', items: [{ sku: 'A', quantity: 1, amount: null, category: null }] }),
    );
    expect('transaction' in one && [one.transaction.merchantRevenue, one.transaction.items?.[0].amount]).toEqual([
      money('70'),
      money('30'),
    ]);
    expect(
      code(
        await decide(
          rules,
          row({ actionId: '1000.1', items: [{ sku: 'Z', quantity: 1, amount: null, category: null }] }),
        ),
      ),
    ).toBe('SKU_NOT_FOUND');
    expect(
      code(
        await decide(
          rules,
          row({ actionId: '1000.1', items: [{ sku: 'B', quantity: 2, amount: null, category: null }] }),
        ),
      ),
    ).toBe('MALFORMED');
  });

  it("does not find another campaign's action for a channel scoped to some campaigns", async () => {
    const { rules, action } = setUp();
    action(1);
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: 1n }), undefined, [2]))).toBe('ACTION_NOT_FOUND');
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: 1n }), undefined, [1, 2]))).toMatchObject({
      result: 'MODIFIED',
    });
  });

  it('stops at 1,000 modifications', async () => {
    const { rules, action } = setUp();
    action(1, { modificationCount: 999 });
    action(2, { modificationCount: 1000 });
    expect(code(await decide(rules, row({ actionId: '1000.1', amount: 1n })))).toMatchObject({ result: 'MODIFIED' });
    expect(code(await decide(rules, row({ actionId: '1000.2', amount: 1n })))).toBe('MAX_MODIFICATIONS_REACHED');
  });

  it('answers nightly processing as passing trouble, and an hour not rolled up under the lock', async () => {
    const { rules, action, catalogue } = setUp();
    const before = action(1);
    catalogue.nightlyInProgress = true;
    expect(await decide(rules, row({ actionId: '1000.1', amount: 1n }))).toEqual({ kind: 'nightly_in_progress' });
    expect(rules.refuseLockedChange({ nightlyInProgress: false, rolledUpThrough: 0 }, before)).toEqual({
      kind: 'hourly_pending',
    });
  });
});
