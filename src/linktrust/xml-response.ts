import { describeOutcome, Outcome } from '../modification/outcome';
import type { SuppliedValues } from './request-parser';

// Characters XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF): dropped from echoes.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const SPECIAL = /[&<>]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Escapes text content like xmlbuilder2 (`&`, `<`, `>`), after dropping what XML cannot hold. Unlike
 * xmlbuilder2, every `&` is escaped, also one that looks like an entity (`&amp;`): echoes are raw values.
 */
export function escapeXmlText(text: string): string {
  return text.replace(NOT_XML, '').replace(SPECIAL, (c) => ENTITY[c]);
}

function element(name: string, value: string): string {
  return `<${name}>${escapeXmlText(value)}</${name}>\n`;
}

function suppliedValuesXml(supplied: SuppliedValues): string {
  return (
    '<SuppliedValues>\n' +
    element('TransactionId', supplied.transactionId) +
    element('ClickId', supplied.clickId) +
    element('MerchantReferenceId', supplied.merchantReferenceId) +
    element('CID', supplied.cid) +
    element('AP', supplied.ap) +
    element('MP', supplied.mp) +
    element('A', supplied.a) +
    element('REASON', supplied.reason) +
    '</SuppliedValues>\n'
  );
}

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<LinkTrust><ApiResponse action="ModifyTransaction">\n';
const TAIL = '</ApiResponse></LinkTrust>';

/**
 * The LinkTrust response document, laid out line for line like the help page's samples (with the
 * sample's `<CID><CID>` typo mended). A string template rather than a builder on the hot path:
 * test/linktrust/xml-response.test.ts proves it byte-identical to xmlbuilder2's serialisation.
 */
export function renderLinkTrustResponse(outcome: Outcome, supplied: SuppliedValues): string {
  if (outcome.kind === 'applied') return `${HEAD}<Succeeded>True</Succeeded>\n${suppliedValuesXml(supplied)}${TAIL}`;
  const { type, message } = describeOutcome(outcome);
  return (
    `${HEAD}<Succeeded>False</Succeeded>\n<Error><Type>${type}</Type>\n<Message>${escapeXmlText(message)}</Message>\n</Error>` +
    `${suppliedValuesXml(supplied)}${TAIL}`
  );
}
