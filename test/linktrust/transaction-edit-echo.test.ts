import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { parseLinkTrustXml } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';
import { documentOf, edit, encodePairs, failure, sendEdit, success, TRANSPORTS } from './edit-request';
import { keepXmlChars } from './strict-linktrust-xml';

// The XML answer itself: declaration, layout, headers, and the echo of raw supplied values, including
// values chosen to break a careless serialiser.
describe.each(testEngines())('/transaction.edit XML answer on %s', (engine) => {
  const context = useTestServer(engine);

  it("answers the help page's click id example with exactly the sample success document", async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const query = `Password=${encodeURIComponent(campaign.password as string)}&ClickID=${transaction.clickId}&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes`;
    const answer = await sendEdit(context.server.baseUrl, { query });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(answer.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<LinkTrust><ApiResponse action="ModifyTransaction">\n' +
        '<Succeeded>True</Succeeded>\n' +
        '<SuppliedValues>\n' +
        '<TransactionId></TransactionId>\n' +
        `<ClickId>${transaction.clickId}</ClickId>\n` +
        '<MerchantReferenceId></MerchantReferenceId>\n' +
        '<CID></CID>\n' +
        '<AP>0.00</AP>\n' +
        '<MP>0.00</MP>\n' +
        '<A>no</A>\n' +
        '<REASON></REASON>\n' +
        '</SuppliedValues>\n' +
        '</ApiResponse></LinkTrust>',
    );
  });

  it("answers a wrong password with exactly the sample failure document, its <CID><CID> typo mended and the table's wording", async () => {
    const { transaction } = await buildScene(context.server.services);
    const answer = await sendEdit(context.server.baseUrl, { query: `Password=nope&Transactionid=${transaction.id}` });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(answer.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<LinkTrust><ApiResponse action="ModifyTransaction">\n' +
        '<Succeeded>False</Succeeded>\n' +
        '<Error><Type>permanent</Type>\n' +
        '<Message>Permanent failure: Invalid authentication credentials</Message>\n' +
        '</Error><SuppliedValues>\n' +
        `<TransactionId>${transaction.id}</TransactionId>\n` +
        '<ClickId></ClickId>\n' +
        '<MerchantReferenceId></MerchantReferenceId>\n' +
        '<CID></CID>\n' +
        '<AP></AP>\n' +
        '<MP></MP>\n' +
        '<A></A>\n' +
        '<REASON></REASON>\n' +
        '</SuppliedValues>\n' +
        '</ApiResponse></LinkTrust>',
    );
  });

  it("lists SuppliedValues in LinkTrust's order whatever order the parameters came in", async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await sendEdit(context.server.baseUrl, {
      query: encodePairs([
        ['REASON', 'r'],
        ['A', 'yes'],
        ['MP', '2'],
        ['AP', '1'],
        ['CID', String(campaign.id)],
        ['Transactionid', String(transaction.id)],
        ['Password', campaign.password as string],
      ]),
    });
    expect(parseLinkTrustXml(answer.body).suppliedOrder).toEqual([
      'TransactionId',
      'ClickId',
      'MerchantReferenceId',
      'CID',
      'AP',
      'MP',
      'A',
      'REASON',
    ]);
    expect(documentOf(answer)).toEqual(
      success({
        TransactionId: String(transaction.id),
        CID: String(campaign.id),
        AP: '1',
        MP: '2',
        A: 'yes',
        REASON: 'r',
      }),
    );
  });

  it('echoes values raw as supplied, not normalised, and never echoes the password', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const answer = await sendEdit(context.server.baseUrl, {
      query: encodePairs([
        ['Password', campaign.password as string],
        ['Transactionid', `000${transaction.id}`],
        ['AP', '1.5000'],
        ['MP', '.5'],
        ['A', 'YES'],
      ]),
    });
    expect(documentOf(answer)).toEqual(
      success({ TransactionId: `000${transaction.id}`, AP: '1.5000', MP: '.5', A: 'YES' }),
    );
    expect(answer.body).not.toContain(campaign.password as string);
  });

  const hostile: Array<[string, string]> = [
    ['markup', '<script>alert("x")</script>'],
    ['ampersands', 'a & b &amp; c &#60; &lt;'],
    ['quotes', `"double" 'single'`],
    ['a CDATA end', 'x]]>y'],
    ['an element look-alike', '</ClickId><Succeeded>True</Succeeded>'],
    ['tab, newline and carriage return', 'a\tb\nc\rd\r\ne'],
    ['unicode', 'Größe 日本語 😀 עברית e\u0301'],
    ['characters allowed though discouraged', 'del\u007f nel\u0085'],
  ];

  describe.each(TRANSPORTS)('via %s', (transport) => {
    it.each(hostile)('echoes %s exactly in a well-formed document', async (_label, value) => {
      const answer = await edit(context.server.baseUrl, transport, [
        ['Password', 'x'],
        ['ClickID', value],
        ['REASON', value],
      ]);
      expect(answer).toEqual(
        failure('permanent', 'Permanent failure: Invalid transaction specified', { ClickId: value, REASON: value }),
      );
    });

    it('drops from the echo every character XML cannot carry, keeping the rest', async () => {
      let controls = '';
      for (let code = 0; code < 0x20; code++) controls += `${String.fromCharCode(code)}${code}`;
      const value = `${controls}|\uFFFE|\uFFFF|end`;
      const raw = await sendEdit(
        context.server.baseUrl,
        transport === 'GET'
          ? { query: encodePairs([['ClickID', value]]) }
          : { body: encodePairs([['ClickID', value]]) },
      );
      const answer = documentOf(raw);
      expect(answer.supplied.ClickId).toBe(keepXmlChars(value));
      expect(answer.supplied.ClickId).toBe('012345678\t9\n101112\r13141516171819202122232425262728293031|||end');
      expect(raw.body).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    });
  });

  it('echoes 10 KB values, hostile ones included, in a well-formed document', async () => {
    const tenKilobytes = '<&>"\'\u0001é😀'.repeat(854); // 12 UTF-8 bytes a repeat: 10,248 bytes
    const answer = documentOf(
      await sendEdit(context.server.baseUrl, {
        body: encodePairs([
          ['ClickID', tenKilobytes],
          ['REASON', tenKilobytes],
        ]),
      }),
    );
    const echoed = tenKilobytes.replace(/\u0001/g, '');
    expect(answer).toEqual(
      failure('permanent', 'Permanent failure: Invalid parameter value for REASON', {
        ClickId: echoed,
        REASON: echoed,
      }),
    );
  });

  it('echoes a 10 KB ASCII value sent in the query string', async () => {
    const value = 'abc-XYZ_0.9~'.repeat(850);
    const answer = documentOf(await sendEdit(context.server.baseUrl, { query: encodePairs([['ClickID', value]]) }));
    expect(answer).toEqual(
      failure('permanent', 'Permanent failure: Invalid transaction specified', { ClickId: value }),
    );
  });
});
