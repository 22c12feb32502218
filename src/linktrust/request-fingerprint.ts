import crypto from 'node:crypto';
import { asciiLowerCase } from '../core/raw-parameter';
import type { DecodedPairs } from './raw-parameters';
import { isKnownParameter } from './request-parser';

/**
 * What identifies "the same request": every known parameter (name in lower case, value as sent) except
 * Password and the key itself, de-duplicated and sorted. The password is left out so that no hash of
 * it is ever stored; a replay only returns what its sender supplied.
 */
export function requestFingerprint(pairs: DecodedPairs): string {
  const entries = new Set<string>();
  for (const { name, value } of pairs.parameters) {
    const lower = asciiLowerCase(name);
    if (value === '' || lower === 'password' || lower === 'idempotencykey' || !isKnownParameter(lower)) continue;
    entries.add(`${lower}=${value}`);
  }
  return crypto
    .createHash('sha256')
    .update([...entries].sort().join('\n'))
    .digest('hex');
}
