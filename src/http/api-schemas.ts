import { z } from 'zod';
import { MAX_TRANSACTION_ID } from '../core/identifier-limits';

/**
 * A positive whole number in a path or query parameter, as `idParam` reads it: 1–16 digits up to
 * `max`; anything else (a repeated query parameter included) is `NAME must be a positive integer`.
 */
export function idParameter(name = 'id', max = MAX_TRANSACTION_ID, description?: string) {
  const message = `${name} must be a positive integer`;
  return z
    .string({ error: message })
    .regex(/^\d{1,16}$/, message)
    .refine((text) => isIdText(text, max), message)
    .transform(Number)
    .meta({ description: description ?? `a positive integer up to ${max}` });
}

/** Whether a parameter's text is a positive whole number up to `max`, as `idParam` accepts it. */
export function isIdText(text: string, max = MAX_TRANSACTION_ID): boolean {
  return /^\d{1,16}$/.test(text) && Number(text) >= 1 && Number(text) <= max;
}

/** A query parameter given at most once (express reads a repeated one as an array). */
export function singleText(name: string, description: string) {
  return z.string({ error: `${name} must be given once` }).meta({ description });
}

/** An instant in an answer: ISO 8601 in UTC with milliseconds (`2026-12-05T08:00:00.000Z`). */
export const isoInstant = z.string().meta({ format: 'date-time', example: '2026-12-05T08:00:00.000Z' });

/** An exact amount in an answer: a decimal string, never a float (`"12.5000"`). */
export const decimalAmount = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .meta({ description: 'exact decimal string (never a JSON number)', example: '12.50' });

/** Every refusal of the admin API: a stable code and a message for people. */
export const apiErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable machine-readable code, e.g. `validation_failed`, `not_found`' }),
      message: z.string().meta({ description: 'what went wrong, for people' }),
    }),
  })
  .meta({ id: 'Error' });
