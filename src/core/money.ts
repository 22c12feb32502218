/**
 * Exact money. An amount is a bigint count of ten-thousandths (the spec allows at most four fraction
 * digits), so storage and arithmetic never touch a JS float. Columns hold the same integer (BIGINT),
 * which both MySQL/MariaDB and SQLite store exactly.
 */
export type Money = bigint;

/** Ten-thousandths per unit. */
export const MONEY_SCALE = 10_000n;

/** Largest accepted amount: 99,999,999,999.9999 — keeps every stored value inside 2^53 as well. */
export const MAX_MONEY: Money = 999_999_999_999_999n;

// Digits, optionally a dot and 1–4 digits (or a leading dot: "0.5" and ".5" are both what carts send).
// No sign, exponent, spaces or thousands separators: LinkTrust's examples are plain "0.00". Leading
// zeros are allowed ("000012.50" is 12.50); at most 11 significant whole digits fit under MAX_MONEY.
const DECIMAL = /^(\d+)?(?:\.(\d{1,4}))?$/;

/** Parses a plain non-negative decimal with at most 4 fraction digits; null when it is not one. */
export function parseMoney(text: string): Money | null {
  const match = DECIMAL.exec(text);
  if (!match || (match[1] === undefined && match[2] === undefined)) return null;
  const wholeDigits = (match[1] ?? '0').replace(/^0+(?=\d)/, '');
  if (wholeDigits.length > 11) return null;
  const whole = BigInt(wholeDigits);
  const fraction = BigInt((match[2] ?? '').padEnd(4, '0'));
  const value = whole * MONEY_SCALE + fraction;
  return value <= MAX_MONEY ? value : null;
}

/** Formats with at least two and at most four fraction digits: 125000n → "12.50", 1234n → "0.1234". */
export function formatMoney(value: Money): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / MONEY_SCALE;
  let fraction = (abs % MONEY_SCALE).toString().padStart(4, '0');
  fraction = fraction.replace(/0{1,2}$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * Reads a stored amount or a sum of them: a number (either driver, while it is a safe integer), a bigint
 * (better-sqlite3 asked for safe integers) or a string (mysql2: BIGINT past 2^53, and every SUM, which is
 * DECIMAL). A number past 2^53 may already be rounded, so it is refused rather than trusted.
 */
export function moneyFromColumn(value: number | string | bigint): Money {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' ? !Number.isSafeInteger(value) : !/^-?\d+$/.test(value))
    throw new MoneyColumnError(value);
  return BigInt(value);
}

/** A stored amount that is not an exact integer: a corrupt row, or a number a driver could not hold. */
export class MoneyColumnError extends Error {
  constructor(value: unknown) {
    super(`money column holds a non-integer ${value}`);
    this.name = 'MoneyColumnError';
  }
}

/** The value bound to a BIGINT column; both drivers accept a safe-integer number. */
export function moneyToColumn(value: Money): number {
  return Number(value);
}
