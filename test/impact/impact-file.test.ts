import type { ParsedRow } from '../../src/batch/parse-file';
import { fileKindOf, impactFileRows, summariseImpactFile, type ImpactFormat } from '../../src/impact/impact-file';

/** The text in slices of `size` characters. */
function* slicesOf(text: string, size = 7): Generator<string> {
  for (let start = 0; start < text.length; start += size) yield text.slice(start, start + size);
}

async function read(text: string, format: ImpactFormat, sliceRows = 2, size = 7) {
  const summary = await summariseImpactFile(slicesOf(text, size), format);
  const slices: ParsedRow[][] = [];
  if (summary.ok) {
    for await (const slice of impactFileRows(slicesOf(text, size), format, sliceRows, summary.columns))
      slices.push(slice);
  }
  return { summary, rows: slices.flat(), slices };
}

const pairs = (values: Record<string, string>) => Object.entries(values).map(([name, value]) => ({ name, value }));

describe('impact.com CSV files', () => {
  it('reads an order-level file, aliases and any case canonicalised, blank rows skipped but counted', async () => {
    const text =
      'actionid,ORDERID,ActionTrackerID,amount,DispositionCode,currencycode,customerstatus\r\n' +
      '1000.2000.3000,ORD-1,7,19.90,ORDER_UPDATE,USD,NEW\r\n' +
      ',,,,,,\r\n' +
      ',ORD-2,7,0,REJECTED,,\r\n';
    const { summary, rows, slices } = await read(text, 'csv', 1);
    const columns = ['ActionId', 'Oid', 'ActionTrackerId', 'Amount', 'Reason', 'CurrencyCode', 'CustomerStatus'];
    expect(summary).toEqual({ ok: true, format: 'csv', shape: 'order', columns, records: 2 });
    expect(rows).toEqual([
      {
        rowNumber: 1,
        parameters: pairs({
          ActionId: '1000.2000.3000',
          Oid: 'ORD-1',
          ActionTrackerId: '7',
          Amount: '19.90',
          Reason: 'ORDER_UPDATE',
          CurrencyCode: 'USD',
          CustomerStatus: 'NEW',
        }),
      },
      {
        rowNumber: 3,
        parameters: pairs({
          ActionId: '',
          Oid: 'ORD-2',
          ActionTrackerId: '7',
          Amount: '0',
          Reason: 'REJECTED',
          CurrencyCode: '',
          CustomerStatus: '',
        }),
      },
    ]);
    expect(slices.map((slice) => slice.length)).toEqual([1, 1]);
  });

  it.each([
    ['item-numbered', 'Oid,ActionTrackerId,Sku1,Quantity1,Amount1,Category1,Name1,Sku2,Quantity2,Amount2'],
    ['item-rows', 'Oid,ActionTrackerId,Sku,Quantity,Amount,Category'],
    ['mobile', 'ActionId,Amount,Reason'],
    ['mobile', 'reason,AMOUNT,actionid'],
    ['reset', 'Oid,ActionTrackerId,Reason'],
    ['reset', 'OrderId,ActionTrackerId,DispositionCode'],
    ['order', 'ActionId,Amount,Reason,CustomerStatus'],
    ['order', 'Oid,ActionTrackerId,Amount'],
  ])('tells a %s file from its header %s', async (shape, header) => {
    const { summary } = await read(`${header}\n`, 'csv');
    expect(summary).toMatchObject({ ok: true, shape, records: 0 });
  });

  it('keeps the numbered item columns canonical in every row', async () => {
    const { rows } = await read('OID,actiontrackerid,SKU1,quantity1,AMOUNT1\nO-1,7,A,2,10.00\n', 'csv');
    expect(rows).toEqual([
      {
        rowNumber: 1,
        parameters: pairs({ Oid: 'O-1', ActionTrackerId: '7', Sku1: 'A', Quantity1: '2', Amount1: '10.00' }),
      },
    ]);
  });

  it('marks a row longer than the header, as Lead Poster files do', async () => {
    const { rows } = await read('ActionId,Amount,Reason\nM1,0,REJECTED,extra\n', 'csv');
    expect(rows[0].parameters).toContainEqual({ name: '__extra_fields__', value: '1' });
  });

  it('refuses a header with unknown, unnamed and duplicate columns, naming every problem', async () => {
    const { summary } = await read('ActionId,Oid,OrderId,Colour,,Amount,amount,Sku0\n1,2,3\n', 'csv');
    expect(summary).toEqual({
      ok: false,
      reason:
        'column 5 has no name; unknown column(s): Colour, Sku0; duplicate column: Oid and OrderId, Amount and amount',
    });
  });

  it('refuses numbered and one-item-per-row item columns together', async () => {
    const { summary } = await read('Oid,ActionTrackerId,Sku,Quantity,Sku1,Quantity1\n', 'csv');
    expect(summary).toEqual({
      ok: false,
      reason: 'the file mixes numbered item columns (Sku1, Quantity1…) with one-item-per-row columns (Sku, Quantity…)',
    });
  });

  it('refuses a file without a header row without repeating its data', async () => {
    const { summary } = await read('1000.2000.3000,19.90,ORDER_UPDATE\n', 'csv');
    expect(summary).toEqual({
      ok: false,
      reason:
        'the first row is not a header: it names none of the columns ActionId, Oid, ActionTrackerId, Amount, Reason, ' +
        'CurrencyCode, CustomerStatus, Sku, Quantity',
    });
  });

  it('refuses a quote that is never closed, as Lead Poster files', async () => {
    const { summary } = await read('ActionId,Amount,Reason\n"M1,0,REJECTED\n', 'csv');
    expect(summary).toEqual({ ok: false, reason: 'row 1 opens a quoted field that is never closed' });
  });

  it('reads a tab in a CSV value as data: impact files are always comma-separated', async () => {
    const { summary } = await read('ActionId\tAmount,Reason\n', 'csv');
    expect(summary).toEqual({ ok: false, reason: 'unknown column(s): ActionId\tAmount' });
  });
});

describe('impact.com XML files', () => {
  it('reads rows of any element names, the columns in order of first appearance, items flattened', async () => {
    const text =
      '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- returns -->\n<Returns>\n' +
      '  <Return><OrderId>ORD-1</OrderId><ActionTrackerId>7</ActionTrackerId>\n' +
      '    <Item><Sku>A&amp;B</Sku><Quantity>1</Quantity><Amount>10.00</Amount><Category>Shoes</Category></Item>\n' +
      '    <ITEM><sku><![CDATA[C<D]]></sku><amount>5</amount></ITEM>\n' +
      '    <DispositionCode>ITEM_RETURNED</DispositionCode>\n  </Return>\n' +
      '  <Return/>\n' +
      '  <Action><Oid>ORD-2&#x41;&#66;</Oid><ActionTrackerId>7</ActionTrackerId><Item><Sku>Z</Sku><Quantity>0</Quantity></Item></Action>\n' +
      '</Returns>\n';
    const { summary, rows } = await read(text, 'xml', 10, 5);
    const columns = [
      'Oid',
      'ActionTrackerId',
      'Sku1',
      'Quantity1',
      'Amount1',
      'Category1',
      'Sku2',
      'Amount2',
      'Reason',
    ];
    expect(summary).toEqual({ ok: true, format: 'xml', shape: 'item-numbered', columns, records: 2 });
    expect(rows).toEqual([
      {
        rowNumber: 1,
        parameters: pairs({
          Oid: 'ORD-1',
          ActionTrackerId: '7',
          Sku1: 'A&B',
          Quantity1: '1',
          Amount1: '10.00',
          Category1: 'Shoes',
          Sku2: 'C<D',
          Amount2: '5',
          Reason: 'ITEM_RETURNED',
        }),
      },
      {
        rowNumber: 3,
        parameters: pairs({
          Oid: 'ORD-2AB',
          ActionTrackerId: '7',
          Sku1: 'Z',
          Quantity1: '0',
          Amount1: '',
          Category1: '',
          Sku2: '',
          Amount2: '',
          Reason: '',
        }),
      },
    ]);
  });

  it('tells a mobile XML file and reads its rows', async () => {
    const text =
      '<Actions><Action><ActionId>M1</ActionId><Amount>0</Amount><Reason>REJECTED</Reason></Action></Actions>';
    const { summary, rows } = await read(text, 'xml');
    expect(summary).toEqual({
      ok: true,
      format: 'xml',
      shape: 'mobile',
      columns: ['ActionId', 'Amount', 'Reason'],
      records: 1,
    });
    expect(rows).toEqual([{ rowNumber: 1, parameters: pairs({ ActionId: 'M1', Amount: '0', Reason: 'REJECTED' }) }]);
  });

  it('accepts an empty root as a file of no rows', async () => {
    expect((await read('<Actions/>', 'xml')).summary).toEqual({
      ok: true,
      format: 'xml',
      shape: 'order',
      columns: [],
      records: 0,
    });
  });

  it.each([
    [
      'unknown columns and duplicates, every one named',
      '<r><a><ActionId>1</ActionId><Colour>red</Colour><Item><Size>9</Size></Item></a>' +
        '<a><Oid>1</Oid><OrderId>2</OrderId></a></r>',
      'unknown column(s): Colour, Item/Size; row 2 has duplicate column: Oid',
    ],
    [
      'an element inside a column',
      '<r><a><ActionId><b/></ActionId></a></r>',
      'row 1: <ActionId> holds an element; a column holds text only',
    ],
    [
      'text beside the rows',
      '<r>stray<a><ActionId>1</ActionId></a></r>',
      'the XML file has text outside any row element: each row element holds one element per column',
    ],
    [
      'a file that is not well-formed',
      '<r><a><ActionId>1</a></r>',
      'the XML file is not well-formed (line 1, column 21): unexpected close tag.',
    ],
    [
      'a second root',
      '<r/><r/>',
      'the XML file is not well-formed (line 1, column 7): documents may contain only one root.',
    ],
    [
      'an entity other than the predefined ones',
      '<r><a><ActionId>&nbsp;</ActionId></a></r>',
      'the XML file refers to an entity (line 1, column 22): only &amp; &lt; &gt; &quot; &apos; and numeric character references are allowed',
    ],
  ])('refuses %s', async (_, text, reason) => {
    expect((await read(text, 'xml')).summary).toEqual({ ok: false, reason });
  });

  const DOCTYPE_REFUSED = 'the XML file has a DOCTYPE: DTDs and the entities they declare are refused';

  it('refuses entity expansion (billion laughs) without expanding anything', async () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join(
      '\n',
    );
    const text = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n${entities}\n]>\n<lolz><a><ActionId>&lol9;</ActionId></a></lolz>`;
    const started = process.memoryUsage().heapUsed;
    expect((await read(text, 'xml')).summary).toEqual({ ok: false, reason: DOCTYPE_REFUSED });
    expect(process.memoryUsage().heapUsed - started).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses an external entity and reads no file', async () => {
    const text =
      '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' +
      '<r><a><ActionId>&xxe;</ActionId></a></r>';
    const { summary, rows } = await read(text, 'xml');
    expect(summary).toEqual({ ok: false, reason: DOCTYPE_REFUSED });
    expect(rows).toEqual([]);
    expect(JSON.stringify(summary)).not.toContain('root:');
  });

  it('refuses an external DTD by SYSTEM identifier', async () => {
    const text = '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r><a><ActionId>1</ActionId></a></r>';
    expect((await read(text, 'xml')).summary).toEqual({ ok: false, reason: DOCTYPE_REFUSED });
  });

  it('refuses a row longer than a MiB without buffering the rest', async () => {
    const text = `<r><a><ActionId>${'x'.repeat(1_100_000)}</ActionId></a></r>`;
    expect((await read(text, 'xml', 2, 16_384)).summary).toEqual({
      ok: false,
      reason: 'row 1 is longer than 1,048,576 characters',
    });
  });

  it('summarises a 100,000-row file and gives its rows in slices while the text is still being read', async () => {
    const rowCount = 100_000;
    let produced = 0;
    // The text is made as it is read, 100 rows a slice: it never exists whole either.
    function* text(): Generator<string> {
      yield '<?xml version="1.0"?><Actions>';
      for (let start = 0; start < rowCount; start += 100) {
        let slice = '';
        for (let i = start; i < start + 100; i++)
          slice += `<Action><ActionId>M${i}</ActionId><Amount>${i % 50}.25</Amount><Reason>ORDER_UPDATE</Reason></Action>\n`;
        produced = start + 100;
        yield slice;
      }
      yield '</Actions>';
    }
    const summary = await summariseImpactFile(text(), 'xml');
    expect(summary).toEqual({
      ok: true,
      format: 'xml',
      shape: 'mobile',
      columns: ['ActionId', 'Amount', 'Reason'],
      records: rowCount,
    });

    let rows = 0;
    let slices = 0;
    const producedAtSlice: number[] = [];
    for await (const slice of impactFileRows(text(), 'xml', 1000, ['ActionId', 'Amount', 'Reason'])) {
      expect(slice.length).toBe(1000);
      expect(slice[0].rowNumber).toBe(rows + 1);
      rows += slice.length;
      slices++;
      producedAtSlice.push(produced);
    }
    expect(rows).toBe(rowCount);
    expect(slices).toBe(100);
    // Each slice of rows was handed over as soon as its text was read, not after the whole file.
    expect(producedAtSlice[0]).toBeLessThanOrEqual(1100);
    expect(producedAtSlice[49]).toBeLessThanOrEqual(50_100);
  }, 60_000);
});

describe('fileKindOf', () => {
  it.each([
    ['mods.txt', 'Password\tTransactionID\tAP\tMP\tREASON\r\nsecret\t1\t1.00\t2.00\tfix\r\n', 'lead-poster'],
    ['mods.csv', '\ufeffPassword,ClickID,MP,REASON\r\n', 'lead-poster'],
    ['mods.csv', ',,,\r\n\r\nPassword,TransactionID,A\r\n', 'lead-poster'],
    ['reasons.csv', 'REASON\n', 'lead-poster'],
    ['mods.csv', 'ActionId,Amount,Reason\r\nM1,0,REJECTED\r\n', 'impact'],
    ['mods.txt', '"OrderId","ActionTrackerId","DispositionCode"\n', 'impact'],
    ['mods.csv', '\ufeff\r\n,,\r\nOid,ActionTrackerId,Reason\r\n', 'impact'],
    ['mods.csv', 'oid;actiontrackerid;reason\n', 'impact'],
    ['items.csv', 'ActionId,SKU3\n', 'impact'],
    ['mods.txt', 'Password\tTransactionID\tAmount\tNotes\r\n', 'lead-poster'],
    ['mods.csv', 'OrderId,mp,Reason\n', 'lead-poster'],
    ['items.csv', 'quantity\n', 'impact'],
    ['mods.dat', '  \n <?xml version="1.0"?><Actions/>', 'impact'],
    ['mods.XML', 'not xml at all', 'impact'],
    ['mods.csv', '', 'lead-poster'],
  ])('%s starting %j is a %s file', (filename, text, kind) => {
    expect(fileKindOf(filename, text)).toBe(kind);
  });
});
