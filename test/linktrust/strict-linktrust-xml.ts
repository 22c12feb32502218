/**
 * A strict reader of /transaction.edit answers for tests. Unlike a general XML parser it accepts only
 * the exact layout of LinkTrust's samples (element order, newlines, no extra whitespace), only the five
 * predefined entities, and only characters XML 1.0 can carry; and it returns each text exactly as
 * encoded (no trimming, entities resolved), so echoes can be compared character for character.
 */

/** Names of the echoed values, in the order LinkTrust's samples give them. */
export const SUPPLIED_NAMES = [
  'TransactionId',
  'ClickId',
  'MerchantReferenceId',
  'CID',
  'AP',
  'MP',
  'A',
  'REASON',
] as const;
export type SuppliedName = (typeof SUPPLIED_NAMES)[number];
export type Supplied = Record<SuppliedName, string>;

/** Every echo empty: what a request that supplied none of the echoed parameters gets back. */
export const NOTHING_SUPPLIED: Supplied = {
  TransactionId: '',
  ClickId: '',
  MerchantReferenceId: '',
  CID: '',
  AP: '',
  MP: '',
  A: '',
  REASON: '',
};

/** A parsed answer. */
export interface LinkTrustDocument {
  succeeded: 'True' | 'False';
  error: { type: string; message: string } | null;
  supplied: Supplied;
}

// Character data: anything but markup, or a predefined entity reference.
const TEXT = '((?:[^<&]|&(?:amp|lt|gt|quot|apos);)*)';
const DOCUMENT = new RegExp(
  '^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\n' +
    '<LinkTrust><ApiResponse action="ModifyTransaction">\\n' +
    '<Succeeded>(True|False)</Succeeded>\\n' +
    `(?:<Error><Type>${TEXT}</Type>\\n<Message>${TEXT}</Message>\\n</Error>)?` +
    '<SuppliedValues>\\n' +
    SUPPLIED_NAMES.map((name) => `<${name}>${TEXT}</${name}>\\n`).join('') +
    '</SuppliedValues>\\n' +
    '</ApiResponse></LinkTrust>$',
  'u',
);

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
const unescape = (text: string) => text.replace(/&(?:amp|lt|gt|quot|apos);/g, (entity) => ENTITIES[entity]);

/** True for a code point XML 1.0 allows in a document (the `Char` production). */
export function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** The string without the characters XML 1.0 cannot carry (lone surrogates included). */
export function keepXmlChars(text: string): string {
  let kept = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) as number;
    // A lone surrogate iterates as one unit whose code point is the surrogate itself: not a Char.
    if (isXmlChar(codePoint)) kept += char;
  }
  return kept;
}

/** Parses an answer, throwing when it is not well-formed or not laid out exactly like LinkTrust's. */
export function readLinkTrustDocument(body: string): LinkTrustDocument {
  for (const char of body) {
    const codePoint = char.codePointAt(0) as number;
    if (!isXmlChar(codePoint))
      throw new Error(`character U+${codePoint.toString(16).toUpperCase()} cannot appear in XML`);
  }
  const match = DOCUMENT.exec(body);
  if (!match) throw new Error(`not a LinkTrust answer:\n${body.slice(0, 2000)}`);
  const [, succeeded, type, message, ...values] = match;
  if ((succeeded === 'True') !== (type === undefined)) throw new Error('Succeeded and the presence of Error disagree');
  const supplied = {} as Supplied;
  SUPPLIED_NAMES.forEach((name, index) => (supplied[name] = unescape(values[index])));
  return {
    succeeded: succeeded as 'True' | 'False',
    error: type === undefined ? null : { type: unescape(type), message: unescape(message) },
    supplied,
  };
}
