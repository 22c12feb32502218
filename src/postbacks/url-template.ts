/**
 * Affiliate postback URL templates in LinkTrust's `[=TOKEN=]` syntax: validation when an affiliate
 * saves a template, and rendering when a transaction is approved or reversed.
 */

/** Longest template we accept; longer ones are almost always a paste accident. */
export const MAX_POSTBACK_URL_TEMPLATE_LENGTH = 2048;

/**
 * A `[=NAME=]` token. The name excludes brackets so `[=A=][=B=]` is two tokens, and is lazy so it
 * stops at the first `=]`. Validation and rendering share this pattern, so whatever validation saw as
 * a token is exactly what rendering replaces.
 */
const TOKEN_PATTERN = /\[=([^[\]]*?)=\]/g;

/** The transaction facts a postback can carry; one field per LinkTrust token. */
export interface PostbackTokenValues {
  campaignId: number;
  affiliateId: number;
  subId: string | null;
  clickId: string;
  transactionId: string;
  affiliatePayout: string;
  merchantRevenue: string;
  merchantReferenceId: string | null;
  affiliateReferenceId: string | null;
  approved: boolean;
  reason: string | null;
  postbackId: string;
}

/** Result of {@link validatePostbackUrlTemplate}: a refusal is a value with a human reason. */
export type PostbackUrlTemplateValidation = { ok: true } | { ok: false; reason: string };

/**
 * Token name (lower-cased, because LinkTrust matches tokens case-insensitively and affiliates copy
 * them in every casing) → the raw value it stands for. A Map, not an object literal, so that
 * `[=constructor=]` or `[=__proto__=]` find nothing instead of Object.prototype members.
 */
type TokenValue = (values: PostbackTokenValues) => string | null;

/** A token a postback URL template may hold, as LinkTrust spells it, with what it stands for. */
export interface PostbackToken {
  token: string;
  meaning: string;
}

const TOKENS: ReadonlyArray<PostbackToken & { value: TokenValue }> = [
  { token: 'CID', meaning: 'campaign id', value: (v) => String(v.campaignId) },
  { token: 'AFID', meaning: 'affiliate id', value: (v) => String(v.affiliateId) },
  { token: 'SID', meaning: 'the affiliate’s sub id', value: (v) => v.subId },
  { token: 'ClickID', meaning: 'click id', value: (v) => v.clickId },
  { token: '_TransID', meaning: 'transaction id', value: (v) => v.transactionId },
  { token: 'AffiliateCommission', meaning: 'affiliate payout', value: (v) => v.affiliatePayout },
  { token: 'TotalSales', meaning: 'merchant revenue', value: (v) => v.merchantRevenue },
  { token: 'MerchantReferenceID', meaning: 'merchant reference id', value: (v) => v.merchantReferenceId },
  { token: 'AffiliateReferenceID', meaning: 'affiliate reference id', value: (v) => v.affiliateReferenceId },
  { token: 'Approved', meaning: '`yes` or `no`', value: (v) => (v.approved ? 'yes' : 'no') },
  { token: 'Reason', meaning: 'the reason given with the change', value: (v) => v.reason },
  { token: 'PostbackID', meaning: 'this delivery’s id (the same on every retry)', value: (v) => v.postbackId },
];

/** Every token a template may hold, for the console's help next to the postback URL field. */
export const POSTBACK_TOKENS: readonly PostbackToken[] = TOKENS.map(({ token, meaning }) => ({ token, meaning }));

const TOKEN_VALUES: ReadonlyMap<string, TokenValue> = new Map<string, TokenValue>(
  TOKENS.map(({ token, value }) => [token.toLowerCase(), value]),
);

/**
 * Checks a template an affiliate wants to save: an absolute http(s) URL without credentials, with
 * tokens only where they cannot change which server receives the postback.
 */
export function validatePostbackUrlTemplate(template: string): PostbackUrlTemplateValidation {
  if (template.length > MAX_POSTBACK_URL_TEMPLATE_LENGTH) {
    return refuse(`postbackUrl must be at most ${MAX_POSTBACK_URL_TEMPLATE_LENGTH} characters`);
  }
  // The WHATWG parser silently drops tabs/newlines and trims spaces, so what we would store and
  // what we would later request could differ; refuse instead of guessing.
  if (/[\s\u0000-\u001f\u007f]/.test(template)) {
    return refuse('postbackUrl must not contain spaces or control characters');
  }
  // Require the literal `scheme://` because the parser also "repairs" `http:host` and `http:\\host`.
  if (!/^https?:\/\//i.test(template)) return refuse('postbackUrl must be an absolute http(s) URL');

  const withX = parseOrNull(template.replace(TOKEN_PATTERN, 'x'));
  const withY = parseOrNull(template.replace(TOKEN_PATTERN, 'y'));
  if (withX === null || withY === null) return refuse('postbackUrl must be an absolute http(s) URL');
  if (withX.protocol !== 'http:' && withX.protocol !== 'https:') {
    return refuse('postbackUrl must be an absolute http(s) URL');
  }
  if (withX.username !== '' || withX.password !== '') {
    return refuse('postbackUrl must not contain credentials');
  }
  // Rendering the template two ways exposes a token in the host or port: sub ids come from
  // clicks, so a token there would let anyone who can craft a click pick where payouts are sent.
  if (withX.host !== withY.host) return refuse('postbackUrl must not use tokens in the host or port');
  return { ok: true };
}

/**
 * Fills a template with a transaction's values. Each value is percent-encoded and inserted once, so
 * a value that itself looks like `[=CID=]` or `&x=1` cannot add tokens or parameters. Unknown tokens
 * become empty, as in LinkTrust; null values become empty too.
 */
export function renderPostbackUrl(template: string, values: PostbackTokenValues): string {
  return template.replace(TOKEN_PATTERN, (_token, name: string) => {
    const valueOf = TOKEN_VALUES.get(name.toLowerCase());
    const value = valueOf === undefined ? null : valueOf(values);
    return value === null ? '' : encodeURIComponent(toWellFormed(value));
  });
}

function refuse(reason: string): PostbackUrlTemplateValidation {
  return { ok: false, reason };
}

function parseOrNull(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * encodeURIComponent throws URIError on a lone surrogate, which can arrive in a sub id from a click
 * or JSON body; replace those with U+FFFD so one odd value cannot break a postback.
 */
function toWellFormed(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
