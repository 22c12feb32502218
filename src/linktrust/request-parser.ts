import type { ModificationRequest, RequestedChanges, TransactionIdentifier } from '../modification/command';
import { parseMoney } from '../core/money';
import type { Outcome } from '../modification/outcome';
import { asciiLowerCase } from '../core/raw-parameter';
import type { DecodedPairs } from './raw-parameters';
import { MAX_CAMPAIGN_ID, MAX_TRANSACTION_ID } from '../core/identifier-limits';

/** The values echoed in `<SuppliedValues>`, raw as supplied ('' when not supplied). */
export interface SuppliedValues {
  transactionId: string;
  clickId: string;
  merchantReferenceId: string;
  cid: string;
  ap: string;
  mp: string;
  a: string;
  reason: string;
}

/** The parser's answer: a request for the core, or a refusal decided from the parameters alone. */
export type ParsedRequest =
  | { ok: true; request: ModificationRequest; supplied: SuppliedValues; idempotencyKey: string | null }
  | { ok: false; outcome: Outcome; supplied: SuppliedValues };

// Lower-cased names LinkTrust documents, plus txedit's IdempotencyKey; everything else is ignored.
const KNOWN = [
  'password',
  'transactionid',
  'clickid',
  'merchantreferenceid',
  'cid',
  'ap',
  'mp',
  'a',
  'executeaffiliatepixel',
  'reason',
  'idempotencykey',
] as const;
type Known = (typeof KNOWN)[number];
const KNOWN_SET = new Set<string>(KNOWN);

/** True for a parameter name (any ASCII case) that the parser reads. */
export function isKnownParameter(name: string): boolean {
  return KNOWN_SET.has(asciiLowerCase(name));
}

// An idempotency key: 1-255 printable ASCII characters.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** An idempotency key is 1-255 printable ASCII characters (header or parameter alike). */
export function isValidIdempotencyKey(value: string): boolean {
  return IDEMPOTENCY_KEY.test(value);
}

/** Longest REASON stored in the history. */
export const MAX_REASON_LENGTH = 255;

interface Supplied {
  spelling: string;
  value: string;
  conflict: string | null; // spelling of a repeat with a different value
}

function positiveInteger(text: string, max: number): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return value >= 1 && value <= max ? value : null;
}

function yesNo(text: string): boolean | null {
  const lower = text.toLowerCase();
  return lower === 'yes' ? true : lower === 'no' ? false : null;
}

/**
 * Turns the decoded parameters of a /transaction.edit call (or a bulk-file row) into a request, applying
 * LinkTrust's rules in order: malformed values first, then the identifier count. Names match in any
 * ASCII case (asciiLowerCase: no Unicode folding); an empty value counts as not supplied; a repeat with a different value is malformed.
 */
export function parseModificationParameters(pairs: DecodedPairs): ParsedRequest {
  const seen = new Map<Known, Supplied>();
  for (const { name, value } of pairs.parameters) {
    const key = asciiLowerCase(name);
    if (!KNOWN_SET.has(key) || value === '') continue;
    const previous = seen.get(key as Known);
    if (!previous) seen.set(key as Known, { spelling: name, value, conflict: null });
    else if (previous.value !== value && previous.conflict === null) previous.conflict = name;
  }
  // A value that could not be decoded is echoed as it arrived (`%ZZ`), so the merchant sees what was wrong.
  const undecodable = (key: Known) => pairs.malformed.find((m) => asciiLowerCase(m.name) === key)?.rawValue ?? '';
  const raw = (key: Known) => seen.get(key)?.value ?? undecodable(key);
  const supplied: SuppliedValues = {
    transactionId: raw('transactionid'),
    clickId: raw('clickid'),
    merchantReferenceId: raw('merchantreferenceid'),
    cid: raw('cid'),
    ap: raw('ap'),
    mp: raw('mp'),
    a: raw('a'),
    reason: raw('reason'),
  };
  const refuse = (outcome: Outcome): ParsedRequest => ({ ok: false, outcome, supplied });
  const invalid = (parameter: string) => refuse({ kind: 'invalid_parameter', parameter });

  const malformed = pairs.malformed.find((m) => KNOWN_SET.has(asciiLowerCase(m.name)));
  if (malformed) return invalid(malformed.name);
  for (const entry of seen.values()) if (entry.conflict !== null) return invalid(entry.conflict);

  const transactionId = seen.get('transactionid');
  const clickId = seen.get('clickid');
  const merchantReferenceId = seen.get('merchantreferenceid');
  const cid = seen.get('cid');
  const ap = seen.get('ap');
  const mp = seen.get('mp');
  const a = seen.get('a');
  const pixel = seen.get('executeaffiliatepixel');
  const reason = seen.get('reason');
  const idempotencyKey = seen.get('idempotencykey');

  const transactionIdValue = transactionId ? positiveInteger(transactionId.value, MAX_TRANSACTION_ID) : null;
  if (transactionId && transactionIdValue === null) return invalid(transactionId.spelling);
  const campaignId = cid ? positiveInteger(cid.value, MAX_CAMPAIGN_ID) : null;
  if (cid && campaignId === null) return invalid(cid.spelling);
  if (merchantReferenceId && !cid) return invalid('CID');
  const affiliatePayout = ap ? parseMoney(ap.value) : undefined;
  if (ap && affiliatePayout === null) return invalid(ap.spelling);
  const merchantRevenue = mp ? parseMoney(mp.value) : undefined;
  if (mp && merchantRevenue === null) return invalid(mp.spelling);
  const approved = a ? yesNo(a.value) : undefined;
  if (a && approved === null) return invalid(a.spelling);
  const executeAffiliatePixel = pixel ? yesNo(pixel.value) : false;
  if (pixel && executeAffiliatePixel === null) return invalid(pixel.spelling);
  if (reason && [...reason.value].length > MAX_REASON_LENGTH) return invalid(reason.spelling);
  if (idempotencyKey && !isValidIdempotencyKey(idempotencyKey.value)) return invalid(idempotencyKey.spelling);

  const identifierCount = [transactionId, clickId, merchantReferenceId].filter(Boolean).length;
  if (identifierCount > 1) return refuse({ kind: 'multiple_identifiers' });
  let identifier: TransactionIdentifier;
  if (transactionIdValue !== null)
    identifier = { kind: 'transaction_id', transactionId: transactionIdValue, campaignId };
  else if (clickId) identifier = { kind: 'click_id', clickId: clickId.value, campaignId };
  else if (merchantReferenceId && campaignId !== null)
    identifier = { kind: 'merchant_reference', merchantReferenceId: merchantReferenceId.value, campaignId };
  else return refuse({ kind: 'invalid_transaction' });

  // Assigned, not spread from conditional literals: on Node 20's V8 that pattern leaves garbage that
  // outlives young-generation collections (measured: ≈ 100 bytes promoted per call), lengthening the pauses.
  const changes: RequestedChanges = {};
  if (affiliatePayout != null) changes.affiliatePayout = affiliatePayout;
  if (merchantRevenue != null) changes.merchantRevenue = merchantRevenue;
  if (approved != null) changes.approved = approved;
  return {
    ok: true,
    supplied,
    idempotencyKey: idempotencyKey?.value ?? null,
    request: {
      identifier,
      changes,
      password: seen.get('password')?.value ?? null,
      reason: reason?.value ?? null,
      executeAffiliatePixel: executeAffiliatePixel === true,
    },
  };
}
