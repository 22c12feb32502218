/*
 * The columns of an impact.com modifications file and their canonical spelling. Files name them in any
 * ASCII case; rows are stored, and read by impact-row, under the canonical names (see the shared model:
 * aliases resolved, item columns numbered Sku1, Quantity1… or kept unnumbered in a one-item-per-row file).
 */

/** Order-level columns, canonical spelling. */
export const ORDER_COLUMNS = [
  'ActionId',
  'Oid',
  'ActionTrackerId',
  'Amount',
  'Reason',
  'CurrencyCode',
  'CustomerStatus',
] as const;

/** Columns of one item line; `Amount` is shared with the order level (see impact-row). */
export const ITEM_COLUMNS = ['Sku', 'Quantity', 'Amount', 'Category', 'Name'] as const;

/** A column of an item line. */
export type ItemColumn = (typeof ITEM_COLUMNS)[number];

/** Other spellings impact.com accepts for a column. */
const ALIASES: Record<string, string> = { orderid: 'Oid', dispositioncode: 'Reason' };

const CANONICAL = new Map<string, string>(
  [...ORDER_COLUMNS, ...ITEM_COLUMNS].map((column) => [column.toLowerCase(), column] as const),
);
const ITEM_BY_LOWER_CASE = new Map<string, ItemColumn>(ITEM_COLUMNS.map((column) => [column.toLowerCase(), column]));

// A numbered item column: its name and a number ≥ 1 without leading zeros (Sku1, Amount12; not Sku0, Sku01).
const NUMBERED = /^(sku|quantity|amount|category|name)([1-9][0-9]{0,3})$/;

/** What a header name means. */
export type ImpactColumn =
  | { kind: 'order'; name: string }
  | { kind: 'item'; name: ItemColumn }
  | { kind: 'numbered'; name: string; column: ItemColumn; item: number };

/**
 * The canonical column a header name stands for, or null for a name impact.com does not know. `Amount`
 * unnumbered is reported as an order column; whether it is an item's is the row's business.
 */
export function impactColumn(name: string): ImpactColumn | null {
  const lower = asciiLower(name.trim());
  const aliased = ALIASES[lower];
  if (aliased !== undefined) return { kind: 'order', name: aliased };
  const canonical = CANONICAL.get(lower);
  if (canonical !== undefined) {
    return (ORDER_COLUMNS as readonly string[]).includes(canonical)
      ? { kind: 'order', name: canonical }
      : { kind: 'item', name: canonical as ItemColumn };
  }
  const numbered = NUMBERED.exec(lower);
  if (numbered === null) return null;
  const column = ITEM_BY_LOWER_CASE.get(numbered[1]) as ItemColumn;
  const item = Number(numbered[2]);
  return { kind: 'numbered', name: `${column}${item}`, column, item };
}

/**
 * Names only impact.com files carry (a Lead Poster file never does): a header naming one is an impact file.
 * `Reason` is not one of them, since LinkTrust's REASON is the same word.
 */
export function isImpactOnlyColumn(name: string): boolean {
  const column = impactColumn(name);
  if (column === null) return false;
  if (column.kind === 'order') return column.name !== 'Reason' || asciiLower(name.trim()) === 'dispositioncode';
  const itemColumn = column.kind === 'item' ? column.name : column.column;
  return itemColumn === 'Sku' || itemColumn === 'Quantity';
}

/** Lower case of ASCII letters only, as header names are matched (a Turkish İ stays what it is). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}
