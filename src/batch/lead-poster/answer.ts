/** LinkTrust's error Type, as the Lead Poster acts on it. */
export type AnswerFailureType = 'permanent' | 'temporary' | 'system';

/** What a /transaction.edit answer says about one row. */
export type LinkTrustAnswer = { succeeded: true } | { succeeded: false; type: AnswerFailureType; message: string };

const ROOT = /<LinkTrust[\s>]/;
const SUCCEEDED = /<Succeeded>\s*(True|False)\s*<\/Succeeded>/i;
const TYPE = /<Type>([\s\S]*?)<\/Type>/i;
const MESSAGE = /<Message>([\s\S]*?)<\/Message>/i;
const CDATA = /<!\[CDATA\[([\s\S]*?)\]\]>/g;
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Reads the verdict from a /transaction.edit answer body, or null when the body is not a LinkTrust
 * answer (an HTML error page from a proxy, an empty body).
 *
 * Deliberately not an XML parser: LinkTrust's own failure sample is not well-formed (`<CID><CID>`),
 * and a client that refused such an answer would fail every row against the real LinkTrust. Only the
 * three elements the poster acts on are looked for.
 */
export function readLinkTrustAnswer(body: string): LinkTrustAnswer | null {
  if (!ROOT.test(body)) return null;
  const succeeded = SUCCEEDED.exec(body);
  if (succeeded === null) return null;
  if (succeeded[1].toLowerCase() === 'true') return { succeeded: true };

  const rawMessage = MESSAGE.exec(body);
  const message = rawMessage ? elementText(rawMessage[1]) : '';
  const type = failureType(TYPE.exec(body)?.[1], message);
  return { succeeded: false, type, message: message || 'LinkTrust answered Succeeded False without a message' };
}

/*
 * An answer without a recognisable Type is classified by its message, whose prefix LinkTrust's error
 * table fixes ("Permanent failure: …", "Temporary failure: …"); anything else counts as a system error,
 * which is recorded rather than retried.
 */
function failureType(rawType: string | undefined, message: string): AnswerFailureType {
  const type = rawType === undefined ? '' : elementText(rawType).toLowerCase();
  if (type === 'permanent' || type === 'temporary' || type === 'system') return type;
  if (/^permanent/i.test(message)) return 'permanent';
  if (/^temporary/i.test(message)) return 'temporary';
  return 'system';
}

function elementText(raw: string): string {
  return raw
    .replace(CDATA, (_match, text: string) => text.replace(/&/g, '&amp;'))
    .replace(ENTITY, (_match, entity: string) => decodeEntity(entity))
    .trim();
}

function decodeEntity(entity: string): string {
  const named = NAMED[entity.toLowerCase()];
  if (named !== undefined) return named;
  const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}
