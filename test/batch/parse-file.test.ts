import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModificationFile } from '../../src/batch/decode-file';
import { KNOWN_COLUMNS, parseModificationFile, type ParsedFile } from '../../src/batch/parse-file';

/** Parses and fails the test with the reason when the file is refused. */
function parsed(text: string): ParsedFile {
  const result = parseModificationFile(text);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result;
}

/** Turns a row of values into the pairs expected for the given header. */
function pairs(columns: string[], values: string[]) {
  return columns.map((name, i) => ({ name, value: values[i] }));
}

function readSample(name: string): string {
  const decoded = decodeModificationFile(readFileSync(join(__dirname, '../../samples', name)));
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.text;
}

const TX_COLUMNS = ['Password', 'TransactionID', 'AP', 'MP', 'A'];

describe('parseModificationFile: the sample files', () => {
  it('reads the transaction id sample', () => {
    expect(parsed(readSample('transaction-id.txt'))).toEqual({
      ok: true,
      format: 'tab',
      columns: TX_COLUMNS,
      rows: [
        { rowNumber: 1, parameters: pairs(TX_COLUMNS, ['demo-password', '1001', '0.00', '0.00', 'no']) },
        { rowNumber: 2, parameters: pairs(TX_COLUMNS, ['demo-password', '1002', '12.50', '25.00', 'yes']) },
        { rowNumber: 3, parameters: pairs(TX_COLUMNS, ['demo-password', '1003', '0.00', '0.00', 'no']) },
      ],
    });
  });

  it('reads the click id sample', () => {
    const columns = ['Password', 'ClickID', 'AP', 'MP', 'A'];
    const file = parsed(readSample('click-id.txt'));
    expect(file.format).toBe('tab');
    expect(file.columns).toEqual(columns);
    expect(file.rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['demo-password', 'demo-click-1001', '0.00', '0.00', 'no']) },
      { rowNumber: 2, parameters: pairs(columns, ['demo-password', 'demo-click-1002', '12.50', '25.00', 'yes']) },
      { rowNumber: 3, parameters: pairs(columns, ['demo-password', 'demo-click-1003', '0.00', '0.00', 'no']) },
    ]);
  });

  it('reads the merchant reference sample as CSV', () => {
    const columns = ['Password', 'MerchantreferenceID', 'CID', 'AP', 'MP', 'A', 'executeaffiliatepixel'];
    const file = parsed(readSample('merchant-reference.csv'));
    expect(file.format).toBe('csv');
    expect(file.columns).toEqual(columns);
    expect(file.rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['demo-password', 'ORDER-1001', '100', '0.00', '0.00', 'no', 'No']) },
      {
        rowNumber: 2,
        parameters: pairs(columns, ['demo-password', 'ORDER-1002', '100', '12.50', '25.00', 'yes', 'Yes']),
      },
      { rowNumber: 3, parameters: pairs(columns, ['demo-password', 'ORDER-1003', '100', '0.00', '0.00', 'no', 'No']) },
    ]);
  });
});

describe('parseModificationFile: layouts and encodings', () => {
  it('reads a tab-delimited merchant reference file with REASON', () => {
    const columns = ['Password', 'MerchantreferenceID', 'CID', 'A', 'REASON'];
    const file = parsed(`${columns.join('\t')}\npw\tORDER-9\t100\tno\tcustomer returned the item\n`);
    expect(file.format).toBe('tab');
    expect(file.rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['pw', 'ORDER-9', '100', 'no', 'customer returned the item']) },
    ]);
  });

  it('reads the same rows whether lines end in CRLF, LF, CR or a mix', () => {
    const lines = ['Password\tTransactionID\tAP\tMP\tA', 'pw\t1001\t1.00\t2.00\tyes', 'pw\t1002\t\t\tno'];
    const expected = parsed(lines.join('\n'));
    expect(expected.rows).toEqual([
      { rowNumber: 1, parameters: pairs(TX_COLUMNS, ['pw', '1001', '1.00', '2.00', 'yes']) },
      { rowNumber: 2, parameters: pairs(TX_COLUMNS, ['pw', '1002', '', '', 'no']) },
    ]);
    expect(parsed(lines.join('\r\n') + '\r\n')).toEqual(expected);
    expect(parsed(lines.join('\r') + '\r')).toEqual(expected);
    expect(parsed(`${lines[0]}\r\n${lines[1]}\n${lines[2]}\r`)).toEqual(expected);
  });

  it('reads an Excel "Unicode Text" (UTF-16LE) upload end to end', () => {
    const bytes = Buffer.from('\ufeffPassword\tClickID\tA\r\npw\tclick-é\tno\r\n', 'utf16le');
    const decoded = decodeModificationFile(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(parsed(decoded.text).rows).toEqual([
      { rowNumber: 1, parameters: pairs(['Password', 'ClickID', 'A'], ['pw', 'click-é', 'no']) },
    ]);
  });

  it('reads a Windows-1252 upload end to end', () => {
    const bytes = Buffer.concat([Buffer.from('Password\tClickID\r\npw\tcaf'), Buffer.from([0xe9, 0x0d, 0x0a])]);
    const decoded = decodeModificationFile(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.encoding).toBe('windows-1252');
    expect(parsed(decoded.text).rows).toEqual([
      { rowNumber: 1, parameters: pairs(['Password', 'ClickID'], ['pw', 'café']) },
    ]);
  });

  it('ignores a BOM left at the start of the text', () => {
    expect(parsed('\ufeffPassword,ClickID\npw,c1\n').columns).toEqual(['Password', 'ClickID']);
  });

  it('parses a 10,000-row file', () => {
    const lines = ['Password\tTransactionID\tAP\tMP\tA'];
    for (let id = 1; id <= 10_000; id++) lines.push(`pw\t${id}\t1.00\t2.00\tyes`);
    const file = parsed(lines.join('\r\n') + '\r\n');
    expect(file.rows).toHaveLength(10_000);
    expect(file.rows[9_999]).toEqual({
      rowNumber: 10_000,
      parameters: pairs(TX_COLUMNS, ['pw', '10000', '1.00', '2.00', 'yes']),
    });
  });
});

describe('parseModificationFile: header names', () => {
  it('keeps mixed-case and trimmed header names as the merchant spelled them', () => {
    const file = parsed(' password \tTRANSACTIONID\tap\tExecuteAffiliatePixel\treason\npw\t1\t2\tyes\twhy\n');
    const columns = ['password', 'TRANSACTIONID', 'ap', 'ExecuteAffiliatePixel', 'reason'];
    expect(file.columns).toEqual(columns);
    expect(file.rows).toEqual([{ rowNumber: 1, parameters: pairs(columns, ['pw', '1', '2', 'yes', 'why']) }]);
  });

  it('accepts every known column at once', () => {
    expect(parsed(KNOWN_COLUMNS.join('\t')).columns).toEqual([...KNOWN_COLUMNS]);
  });

  it('drops empty header cells at the end (Excel pads rows to the used range)', () => {
    const file = parsed('Password\tClickID\t\t\npw\tc1\t\t\n');
    expect(file.columns).toEqual(['Password', 'ClickID']);
    expect(file.rows).toEqual([{ rowNumber: 1, parameters: pairs(['Password', 'ClickID'], ['pw', 'c1']) }]);
  });

  it('takes the first non-empty line as the header and numbers rows from it', () => {
    const file = parsed('\n\t\t\n,,\nPassword\tClickID\npw\tc1\n');
    expect(file.columns).toEqual(['Password', 'ClickID']);
    expect(file.rows).toEqual([{ rowNumber: 1, parameters: pairs(['Password', 'ClickID'], ['pw', 'c1']) }]);
  });

  it('prefers tab over comma when the header holds both', () => {
    const file = parsed('Password\tClickID\npw,1\tc,1\n');
    expect(file.format).toBe('tab');
    expect(file.rows[0].parameters).toEqual(pairs(['Password', 'ClickID'], ['pw,1', 'c,1']));
  });
});

describe('parseModificationFile: rows and fields', () => {
  const columns = ['Password', 'ClickID', 'REASON'];

  it('keeps quoted tabs, commas, doubled quotes and line breaks inside a field', () => {
    const tab = parsed('Password\tClickID\tREASON\r\npw\t"c\t1"\t"said ""no"", then\r\nleft"\r\npw\tc2\tok\r\n');
    expect(tab.rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['pw', 'c\t1', 'said "no", then\r\nleft']) },
      // A multi-line cell is still one spreadsheet row.
      { rowNumber: 2, parameters: pairs(columns, ['pw', 'c2', 'ok']) },
    ]);
    const csv = parsed('Password,ClickID,REASON\npw,"c,1","a\tb ""q""\nnext"\n');
    expect(csv.rows).toEqual([{ rowNumber: 1, parameters: pairs(columns, ['pw', 'c,1', 'a\tb "q"\nnext']) }]);
  });

  it('keeps values exactly as written, including spaces and quotes inside unquoted values', () => {
    const file = parsed('Password\tClickID\tREASON\n pw \t" spaced "\t5" screen\n');
    expect(file.rows[0].parameters).toEqual(pairs(columns, [' pw ', ' spaced ', '5" screen']));
  });

  it('skips blank lines and empty rows but lets them use up a row number', () => {
    const file = parsed('Password\tClickID\tREASON\npw\tc1\tx\n\n\t\t\n  \npw\tc5\ty\n\n\n\r\n');
    expect(file.rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['pw', 'c1', 'x']) },
      { rowNumber: 5, parameters: pairs(columns, ['pw', 'c5', 'y']) },
    ]);
  });

  it('returns no rows for a header-only file', () => {
    expect(parseModificationFile('Password\tTransactionID\tAP\r\n')).toEqual({
      ok: true,
      format: 'tab',
      columns: ['Password', 'TransactionID', 'AP'],
      rows: [],
    });
  });

  it('fills missing trailing fields with empty strings', () => {
    expect(parsed('Password\tClickID\tREASON\npw\n').rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['pw', '', '']) },
    ]);
  });

  it('marks a row with surplus fields with their count', () => {
    expect(parsed('Password\tClickID\tREASON\npw\tc1\tx\ty\t\tz\n').rows).toEqual([
      { rowNumber: 1, parameters: [...pairs(columns, ['pw', 'c1', 'x']), { name: '__extra_fields__', value: '3' }] },
    ]);
  });

  it('does not count empty fields at the end of a row as surplus', () => {
    expect(parsed('Password,ClickID,REASON\npw,c1,x,,\n').rows).toEqual([
      { rowNumber: 1, parameters: pairs(columns, ['pw', 'c1', 'x']) },
    ]);
  });
});

describe('parseModificationFile: refused files', () => {
  const refusal = (reason: string) => ({ ok: false, reason });

  it.each([
    ['an empty text', ''],
    ['blank lines only', '\r\n \n\t\t\n'],
    ['a BOM only', '\ufeff'],
  ])('refuses %s as empty', (_label, text) => {
    expect(parseModificationFile(text)).toEqual(refusal('the file is empty'));
  });

  it('names every unknown column', () => {
    expect(parseModificationFile('Password\tFoo\tTransactionID\tBar\n')).toEqual(
      refusal('unknown column(s): Foo, Bar'),
    );
  });

  it('refuses a column given twice, whatever its case', () => {
    expect(parseModificationFile('Password\tTransactionID\tAP\tAP\n')).toEqual(refusal('duplicate column: AP'));
    expect(parseModificationFile('Password\tTransactionID\tap\tAP\n')).toEqual(refusal('duplicate column: AP'));
  });

  it('refuses a file without a Password column', () => {
    expect(parseModificationFile('TransactionID\tAP\n1\t2\n')).toEqual(refusal('missing column: Password'));
  });

  it('refuses a file without any identifier column, CID alone included', () => {
    const reason = 'missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID';
    expect(parseModificationFile('Password\tCID\tAP\n')).toEqual(refusal(reason));
    // A lone known column is read as a one-column tab file, so the reason is about identifiers.
    expect(parseModificationFile('Password\npw\n')).toEqual(refusal(reason));
  });

  it('refuses a merchant reference without a campaign id', () => {
    expect(parseModificationFile('Password,MerchantreferenceID,AP\n')).toEqual(refusal('missing column: CID'));
  });

  it('refuses a blank header cell between named columns', () => {
    expect(parseModificationFile('Password\t\tClickID\n')).toEqual(refusal('column 2 has no name'));
  });

  it('reports every header problem at once', () => {
    expect(parseModificationFile('Passwrd\tCID\tAP\n')).toEqual(
      refusal(
        'unknown column(s): Passwrd; missing column: Password; ' +
          'missing identifier column: TransactionID, ClickID or MerchantreferenceID + CID',
      ),
    );
  });

  it('refuses a quoted field that is never closed, naming the row', () => {
    expect(parseModificationFile('Password\tClickID\npw\tc1\npw\t"c2\npw\tc3\n')).toEqual(
      refusal('row 2 opens a quoted field that is never closed'),
    );
    expect(parseModificationFile('Password\t"ClickID\n')).toEqual(
      refusal('the header opens a quoted field that is never closed'),
    );
  });
});

describe('parseModificationFile: any file a spreadsheet could write', () => {
  /** Quotes a field the way Excel does: only when it holds the delimiter, a quote or a line break. */
  function spreadsheetField(value: string, delimiter: string): string {
    const needsQuotes = value.includes(delimiter) || /["\r\n]/.test(value);
    return needsQuotes ? `"${value.replace(/"/g, '""')}"` : value;
  }

  it('reads back every value and row number it was given', () => {
    const character = fc.constantFrom('a', '7', ' ', '\t', ',', '"', '\r', '\n', 'é', '€');
    const value = fc.string({ unit: character, maxLength: 6 });
    const row = fc.array(value, { minLength: TX_COLUMNS.length, maxLength: TX_COLUMNS.length });
    const layout = fc.record({
      delimiter: fc.constantFrom('\t', ','),
      eol: fc.constantFrom('\r\n', '\n', '\r'),
      rows: fc.array(row, { maxLength: 8 }),
    });
    fc.assert(
      fc.property(layout, ({ delimiter, eol, rows }) => {
        const lines = [TX_COLUMNS, ...rows].map((fields) =>
          fields.map((field) => spreadsheetField(field, delimiter)).join(delimiter),
        );
        const file = parsed(lines.join(eol) + eol);
        const expected = rows
          .map((values, i) => ({ rowNumber: i + 1, parameters: pairs(TX_COLUMNS, values) }))
          .filter((expectedRow) => expectedRow.parameters.some((p) => p.value.trim() !== ''));
        expect(file.format).toBe(delimiter === '\t' ? 'tab' : 'csv');
        expect(file.rows).toEqual(expected);
      }),
    );
  });
});

describe('a file without a header row', () => {
  it('is refused without echoing the first row, which holds a password', () => {
    const result = parseModificationFile('s3cret-pass\t1001\t1.00\t2.00\tno\n');
    expect(result).toEqual({
      ok: false,
      reason:
        'the first row is not a header: it names none of the columns Password, TransactionID, ClickID, MerchantreferenceID, CID, AP, MP, A, executeaffiliatepixel, REASON',
    });
  });
});
