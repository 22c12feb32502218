import fc from 'fast-check';
import { create } from 'xmlbuilder2';
import type { SuppliedValues } from '../../src/linktrust/request-parser';
import { escapeXmlText, renderLinkTrustResponse } from '../../src/linktrust/xml-response';
import type { Outcome } from '../../src/modification/outcome';
import type { Transaction } from '../../src/core/transaction';
import { keepXmlChars, readLinkTrustDocument } from './strict-linktrust-xml';

const transaction: Transaction = {
  id: 1,
  clickId: 'c',
  campaignId: 2,
  affiliateId: 3,
  merchantReferenceId: null,
  subId: null,
  affiliateReferenceId: null,
  affiliatePayout: 0n,
  merchantRevenue: 0n,
  approved: true,
  occurredAt: 0,
  createdAt: 0,
  updatedAt: 0,
  actionId: '1',
  eventTypeId: null,
  state: 'PENDING',
  lockingDate: 0,
  items: null,
  customerStatus: null,
  modificationCount: 0,
  original: null,
};

// Type and message of every failure, word for word from LinkTrust's error table (the oracle: written
// out here rather than taken from src/modification/outcome.ts).
const FAILURES: Array<[Outcome, 'permanent' | 'temporary' | 'system', string]> = [
  [{ kind: 'invalid_parameter', parameter: 'AP' }, 'permanent', 'Permanent failure: Invalid parameter value for AP'],
  [
    { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' },
    'permanent',
    'Permanent failure: Invalid parameter value for Merchantreferenceid',
  ],
  [{ kind: 'multiple_identifiers' }, 'permanent', 'Permanent failure: Multiple transaction identifiers provided'],
  [{ kind: 'invalid_transaction' }, 'permanent', 'Permanent failure: Invalid transaction specified'],
  [{ kind: 'nightly_in_progress' }, 'temporary', 'Temporary failure: Nightly processing in progress'],
  [
    { kind: 'campaign_closed' },
    'permanent',
    'Permanent failure: Campaign does not allow external transaction modification',
  ],
  [{ kind: 'unauthorized' }, 'permanent', 'Permanent failure: Invalid authentication credentials'],
  [{ kind: 'hourly_pending' }, 'temporary', 'Temporary failure: Hourly processing not completed'],
  [
    { kind: 'temporary_failure', failureType: 'database deadlock' },
    'temporary',
    'Temporary failure: database deadlock LinkTrust API was unable to complete the request',
  ],
  [{ kind: 'system_error' }, 'system', 'System level error'],
];

const ELEMENTS: Array<[string, keyof SuppliedValues]> = [
  ['TransactionId', 'transactionId'],
  ['ClickId', 'clickId'],
  ['MerchantReferenceId', 'merchantReferenceId'],
  ['CID', 'cid'],
  ['AP', 'ap'],
  ['MP', 'mp'],
  ['A', 'a'],
  ['REASON', 'reason'],
];

const NONE: SuppliedValues = {
  transactionId: '',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ap: '',
  mp: '',
  a: '',
  reason: '',
};

/**
 * The same document built with xmlbuilder2: text nodes "\n" where the help page's samples break lines,
 * empty elements as start and end tags, and the newline the samples put after the declaration.
 * Two things are done before handing text to xmlbuilder2: characters XML cannot carry are dropped (it
 * passes them straight through), and every `&` is written as `&amp;` — xmlbuilder2 leaves an `&` that
 * looks like an entity reference (`&amp;`, `&foo;`, `&#60;`) unescaped, taking it for one the caller
 * wrote, which would echo `&amp;` as `&` and `&foo;` as an undefined entity. Already-escaped `&amp;` is
 * left alone by it, so the result is what a strict serialiser writes.
 */
const forXmlbuilder2 = (text: string) => keepXmlChars(text).replace(/&/g, '&amp;');

function viaXmlbuilder2(error: { type: string; message: string } | null, supplied: SuppliedValues): string {
  const document = create({ version: '1.0', encoding: 'UTF-8' });
  const response = document.ele('LinkTrust').ele('ApiResponse', { action: 'ModifyTransaction' });
  response.txt('\n');
  response.ele('Succeeded').txt(error ? 'False' : 'True');
  response.txt('\n');
  if (error) {
    const errorElement = response.ele('Error');
    errorElement.ele('Type').txt(error.type);
    errorElement.txt('\n');
    const message = forXmlbuilder2(error.message);
    const messageElement = errorElement.ele('Message');
    if (message) messageElement.txt(message);
    errorElement.txt('\n');
  }
  const values = response.ele('SuppliedValues');
  values.txt('\n');
  for (const [name, key] of ELEMENTS) {
    const element = values.ele(name);
    const text = forXmlbuilder2(supplied[key]);
    if (text) element.txt(text);
    values.txt('\n');
  }
  response.txt('\n');
  const xml = document.end({ allowEmptyTags: true });
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>';
  expect(xml.startsWith(declaration)).toBe(true);
  return `${declaration}\n${xml.slice(declaration.length)}`;
}

const SAMPLE_SUPPLIED: SuppliedValues = {
  transactionId: '42',
  clickId: 'abc',
  merchantReferenceId: 'ORDER-1',
  cid: '7',
  ap: '0.00',
  mp: '1.5',
  a: 'no',
  reason: 'why',
};

describe('renderLinkTrustResponse', () => {
  it('renders a success byte for byte as xmlbuilder2 serialises it', () => {
    expect(renderLinkTrustResponse({ kind: 'applied', transaction, modificationId: 1 }, SAMPLE_SUPPLIED)).toBe(
      viaXmlbuilder2(null, SAMPLE_SUPPLIED),
    );
    expect(renderLinkTrustResponse({ kind: 'applied', transaction, modificationId: 1 }, NONE)).toBe(
      viaXmlbuilder2(null, NONE),
    );
  });

  it.each(FAILURES)(
    "renders the failure %j byte for byte as xmlbuilder2 serialises it, with the table's Type and Message",
    (outcome, type, message) => {
      const rendered = renderLinkTrustResponse(outcome, SAMPLE_SUPPLIED);
      expect(rendered).toBe(viaXmlbuilder2({ type, message }, SAMPLE_SUPPLIED));
      expect(readLinkTrustDocument(rendered).error).toEqual({ type, message });
    },
  );

  it("renders the help page's success sample exactly", () => {
    const supplied = { ...NONE, ap: '0.00', mp: '0.00', a: 'no' };
    expect(renderLinkTrustResponse({ kind: 'applied', transaction, modificationId: 1 }, supplied)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<LinkTrust><ApiResponse action="ModifyTransaction">',
        '<Succeeded>True</Succeeded>',
        '<SuppliedValues>',
        '<TransactionId></TransactionId>',
        '<ClickId></ClickId>',
        '<MerchantReferenceId></MerchantReferenceId>',
        '<CID></CID>',
        '<AP>0.00</AP>',
        '<MP>0.00</MP>',
        '<A>no</A>',
        '<REASON></REASON>',
        '</SuppliedValues>',
        '</ApiResponse></LinkTrust>',
      ].join('\n'),
    );
  });

  // Units chosen to hit the escaping and dropping rules often: markup, entities, every C0 control,
  // noncharacters, lone and paired surrogates, and any code point at all.
  const unit = fc.oneof(
    fc.constantFrom(
      '<',
      '>',
      '&',
      '"',
      "'",
      ']]>',
      '&amp;',
      '&foo;',
      '&#60;',
      '\t',
      '\n',
      '\r',
      '\u0000',
      '\u0008',
      '\u000b',
      '\u001f',
      '\u007f',
      '\uFFFE',
      '\uFFFF',
      '\uD800',
      '\uDC00',
      '😀',
    ),
    fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
  );
  const value = fc.string({ unit, maxLength: 40 });
  const supplied = fc.record({
    transactionId: value,
    clickId: value,
    merchantReferenceId: value,
    cid: value,
    ap: value,
    mp: value,
    a: value,
    reason: value,
  });

  it('renders arbitrary supplied values byte for byte as xmlbuilder2 does, always well-formed', () => {
    fc.assert(
      fc.property(
        supplied,
        fc.constantFrom(...FAILURES),
        fc.boolean(),
        (values, [outcome, type, message], succeeded) => {
          const rendered = succeeded
            ? renderLinkTrustResponse({ kind: 'applied', transaction, modificationId: 1 }, values)
            : renderLinkTrustResponse(outcome, values);
          expect(rendered).toBe(viaXmlbuilder2(succeeded ? null : { type, message }, values));
          const document = readLinkTrustDocument(rendered);
          expect(document.supplied).toEqual(
            Object.fromEntries(ELEMENTS.map(([name, key]) => [name, keepXmlChars(values[key])])),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('renders an arbitrary parameter name and failure type in the message as xmlbuilder2 does', () => {
    fc.assert(
      fc.property(value, value, (parameter, failureType) => {
        const invalid = renderLinkTrustResponse({ kind: 'invalid_parameter', parameter }, NONE);
        expect(invalid).toBe(
          viaXmlbuilder2(
            { type: 'permanent', message: `Permanent failure: Invalid parameter value for ${parameter}` },
            NONE,
          ),
        );
        const temporary = renderLinkTrustResponse({ kind: 'temporary_failure', failureType }, NONE);
        expect(temporary).toBe(
          viaXmlbuilder2(
            {
              type: 'temporary',
              message: `Temporary failure: ${failureType} LinkTrust API was unable to complete the request`,
            },
            NONE,
          ),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('escapeXmlText', () => {
  it('escapes an & that looks like an entity reference, so the value reads back exactly as supplied', () => {
    expect(escapeXmlText('&amp; &lt; &foo; &#60; &#x3C;')).toBe('&amp;amp; &amp;lt; &amp;foo; &amp;#60; &amp;#x3C;');
  });

  it('escapes &, < and >, keeps quotes, tab, newline and carriage return, and drops what XML cannot carry', () => {
    expect(escapeXmlText(`a&b<c>d"e'f\tg\nh\ri\u0000j\u0001k\u001fl\uFFFEm\uFFFFn\uD800o\u007fp😀`)).toBe(
      `a&amp;b&lt;c&gt;d"e'f\tg\nh\rijklmno\u007fp😀`,
    );
  });
});
