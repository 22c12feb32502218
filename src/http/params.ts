import type { z } from 'zod';
import { MAX_TRANSACTION_ID } from '../core/identifier-limits';
import { invalid } from './admin-errors';

/** Validates a body against a schema, or throws a 400 naming every problem. */
export function validate<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw invalid(
    result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '),
  );
}

/** A positive integer path or query parameter, or a 400. */
export function idParam(value: unknown, name = 'id', max = MAX_TRANSACTION_ID): number {
  const textValue = String(value ?? '');
  const number = /^\d{1,16}$/.test(textValue) ? Number(textValue) : NaN;
  if (!(number >= 1 && number <= max)) throw invalid(`${name} must be a positive integer`);
  return number;
}

/**
 * Validates path or query parameters against a schema, or throws a 400. Each parameter's schema
 * names the parameter in its messages (`id must be a positive integer`), so the messages are joined
 * as they are, each once.
 */
export function validateParameters<T extends z.ZodType>(schema: T, values: unknown): z.infer<T> {
  const result = schema.safeParse(values ?? {});
  if (result.success) return result.data;
  throw invalid([...new Set(result.error.issues.map((i) => i.message))].join('; '));
}
