import type { Money } from '../core/money';
import { parseMoney } from '../core/money';
import type { RawParameter } from '../core/raw-parameter';
import { impactColumn, type ItemColumn } from './impact-columns';

/** One item line of a row: the item's final values (not deltas). */
export interface ImpactRowItem {
  sku: string;
  quantity: number | null;
  /** The line's total. */
  amount: Money | null;
  category: string | null;
  name: string | null;
}

/** A row of an impact.com file whose values all have the right form; whether it applies is the rules' business. */
export interface ImpactRow {
  actionId: string | null;
  oid: string | null;
  actionTrackerId: number | null;
  /** The action's final amount (order level); null when the row gives none. */
  amount: Money | null;
  /** Trimmed, as written (standard codes match in any case, custom ones exactly). */
  reason: string | null;
  currencyCode: string | null;
  customerStatus: 'NEW' | 'EXISTING' | null;
  items: ImpactRowItem[];
  /** A mobile action's row: the file has exactly ActionId, Amount and Reason. */
  mobile: boolean;
}

/** A row whose values can be read, or rule 1's refusal naming the column at fault. */
export type ParsedImpactRow = { ok: true; row: ImpactRow } | { ok: false; code: 'MALFORMED'; message: string };

/** Largest ActionTrackerId: event type ids are positive 32-bit integers. */
const MAX_ACTION_TRACKER_ID = 2_147_483_647;
/** Largest Quantity: a 32-bit integer, far above any real order line. */
const MAX_QUANTITY = 2_147_483_647;
/** Digits an Amount may have in all (impact.com: at most 8, 2 of them after the point). */
const MAX_AMOUNT_DIGITS = 8;
/** Characters of a value repeated in a message: the message column holds 255. */
const SHOWN_CHARS = 40;
/** The name parse-file gives the surplus of a row longer than its header (the same name for impact files). */
const EXTRA_FIELDS = '__extra_fields__';

const MOBILE_COLUMNS = ['ActionId', 'Amount', 'Reason'];

/**
 * Reads a stored row (pairs under canonical column names, see impact-columns) into an {@link ImpactRow},
 * or refuses it as MALFORMED (the first of impact's rules, README "impact.com files"): no identifier; an Amount that is not a plain decimal
 * ≥ 0 with at most 2 decimals and 8 digits; a Quantity that is not a whole number ≥ 0; a CustomerStatus
 * other than NEW/EXISTING, or any on a reversal (Amount 0 or Reason REJECTED); a CurrencyCode other than
 * `accountCurrency`; an Amount missing where required (a mobile row; an item with neither Quantity nor Amount).
 *
 * An empty value is an absent one. In a one-item-per-row file `Amount` is the item's when the row names a
 * Sku, and the order's otherwise; in a numbered file `Amount` is the order's and `AmountN` item N's.
 */
export function parseImpactRow(parameters: RawParameter[], accountCurrency: string): ParsedImpactRow {
  const extra = parameters.find((p) => p.name === EXTRA_FIELDS);
  if (extra !== undefined) return malformed(`the row has ${extra.value} more field(s) than the header has columns`);
  const { order, unnumbered, numbered, names } = gather(parameters);

  const actionId = order.get('ActionId') ?? null;
  const oid = order.get('Oid') ?? null;
  const trackerText = order.get('ActionTrackerId') ?? null;
  if (actionId === null && oid === null)
    return malformed('ActionId: missing: a row names its action by ActionId, or by Oid and ActionTrackerId');
  if (actionId === null && trackerText === null)
    return malformed('ActionTrackerId: missing: a row that names its action by Oid needs the ActionTrackerId');
  let actionTrackerId: number | null = null;
  if (trackerText !== null) {
    actionTrackerId = wholeNumber(trackerText);
    if (actionTrackerId === null || actionTrackerId < 1 || actionTrackerId > MAX_ACTION_TRACKER_ID)
      return malformed(
        `ActionTrackerId: ${shown(trackerText)} is not a whole number from 1 to ${MAX_ACTION_TRACKER_ID}`,
      );
  }

  // In a one-item-per-row file the unnumbered Amount belongs to the row's item.
  const itemRow =
    unnumbered.has('Sku') || unnumbered.has('Quantity') || unnumbered.has('Category') || unnumbered.has('Name');
  const items: ImpactRowItem[] = [];
  if (itemRow) {
    const item = parseItem(withAmount(unnumbered, order.get('Amount')), '');
    if (!item.ok) return item;
    items.push(item.item);
  }
  for (const [number, columns] of [...numbered].sort(([a], [b]) => a - b)) {
    const item = parseItem(columns, String(number));
    if (!item.ok) return item;
    items.push(item.item);
  }

  const amountText = itemRow ? null : (order.get('Amount') ?? null);
  let amount: Money | null = null;
  if (amountText !== null) {
    const parsed = parseAmount(amountText, 'Amount');
    if (typeof parsed === 'string') return malformed(parsed);
    amount = parsed;
  }
  const isMobile = names.size === MOBILE_COLUMNS.length && MOBILE_COLUMNS.every((name) => names.has(name));
  if (isMobile && amount === null) return malformed('Amount: missing: a mobile action row needs the final Amount');

  const reason = order.get('Reason') ?? null;
  const customerStatusText = order.get('CustomerStatus') ?? null;
  let customerStatus: ImpactRow['customerStatus'] = null;
  if (customerStatusText !== null) {
    const upper = customerStatusText.toUpperCase();
    if (upper !== 'NEW' && upper !== 'EXISTING')
      return malformed(`CustomerStatus: ${shown(customerStatusText)} is neither NEW nor EXISTING`);
    if (amount === 0n || reason?.toUpperCase() === 'REJECTED')
      return malformed('CustomerStatus: not allowed on a reversal (Amount 0 or Reason REJECTED)');
    customerStatus = upper;
  }

  const currencyText = order.get('CurrencyCode') ?? null;
  if (currencyText !== null && currencyText.toUpperCase() !== accountCurrency.toUpperCase())
    return malformed(
      `CurrencyCode: ${shown(currencyText)} is not the account's currency, ${accountCurrency.toUpperCase()}`,
    );

  return {
    ok: true,
    row: {
      actionId,
      oid,
      actionTrackerId,
      amount,
      reason,
      currencyCode: currencyText === null ? null : currencyText.toUpperCase(),
      customerStatus,
      items,
      mobile: isMobile,
    },
  };
}

/** The row's non-empty values (trimmed), by canonical name: order level, unnumbered item, numbered items. */
function gather(parameters: RawParameter[]) {
  const order = new Map<string, string>();
  const unnumbered = new Map<ItemColumn, string>();
  const numbered = new Map<number, Map<ItemColumn, string>>();
  // Every column the row's file has, empty or not: a mobile file is told by its columns.
  const names = new Set<string>();
  for (const { name, value } of parameters) {
    const column = impactColumn(name);
    if (column === null) continue;
    names.add(column.name);
    const trimmed = value.trim();
    if (trimmed === '') continue;
    if (column.kind === 'order') order.set(column.name, trimmed);
    else if (column.kind === 'item') unnumbered.set(column.name, trimmed);
    else {
      const item = numbered.get(column.item) ?? new Map<ItemColumn, string>();
      item.set(column.column, trimmed);
      numbered.set(column.item, item);
    }
  }
  return { order, unnumbered, numbered, names };
}

function withAmount(columns: Map<ItemColumn, string>, amount: string | undefined): Map<ItemColumn, string> {
  const item = new Map(columns);
  if (amount !== undefined) item.set('Amount', amount);
  return item;
}

/** One item line; `suffix` is its number as the file wrote it ('' for a one-item-per-row file). */
function parseItem(
  columns: Map<ItemColumn, string>,
  suffix: string,
): { ok: true; item: ImpactRowItem } | { ok: false; code: 'MALFORMED'; message: string } {
  const sku = columns.get('Sku');
  const quantityText = columns.get('Quantity');
  const amountText = columns.get('Amount');
  if (sku === undefined) return malformed(`Sku${suffix}: missing: an item line needs its Sku`);
  if (quantityText === undefined && amountText === undefined)
    return malformed(`Amount${suffix}: missing: an item line needs its Quantity or its Amount`);
  let quantity: number | null = null;
  if (quantityText !== undefined) {
    quantity = wholeNumber(quantityText);
    if (quantity === null || quantity > MAX_QUANTITY)
      return malformed(`Quantity${suffix}: ${shown(quantityText)} is not a whole number ≥ 0`);
  }
  let amount: Money | null = null;
  if (amountText !== undefined) {
    const parsed = parseAmount(amountText, `Amount${suffix}`);
    if (typeof parsed === 'string') return malformed(parsed);
    amount = parsed;
  }
  return {
    ok: true,
    item: { sku, quantity, amount, category: columns.get('Category') ?? null, name: columns.get('Name') ?? null },
  };
}

/** The amount, or the message saying what is wrong with it. */
function parseAmount(text: string, column: string): Money | string {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) return `${column}: ${shown(text)} is not a plain decimal number ≥ 0`;
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length > 2) return `${column}: ${shown(text)} is not a decimal with at most 2 decimals`;
  if (whole.replace(/^0+(?=[0-9])/, '').length + fraction.length > MAX_AMOUNT_DIGITS)
    return `${column}: ${shown(text)} has more than ${MAX_AMOUNT_DIGITS} digits`;
  return parseMoney(text) as Money;
}

/** A plain whole number ≥ 0 (digits only), or null. */
function wholeNumber(text: string): number | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** A value as the message repeats it: cut short, since a message is at most 255 characters. */
function shown(value: string): string {
  return value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value;
}

function malformed(message: string): { ok: false; code: 'MALFORMED'; message: string } {
  return { ok: false, code: 'MALFORMED', message };
}
