import fc from 'fast-check';
import {
  modificationFileRows,
  parseModificationFile,
  summariseModificationFile,
  type ParsedRow,
} from '../../src/batch/parse-file';

/** The text cut into slices of about `size` code units; like the decoder's, a slice never splits a surrogate pair. */
function* slicesOf(text: string, size: number): Generator<string> {
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + size, text.length);
    if (/[\ud800-\udbff]/.test(text[end - 1] ?? '')) end++;
    yield text.slice(start, end);
    start = end;
  }
}

/** What the sliced readers make of the text: the summary, and the rows in their slices (when accepted). */
async function readSliced(text: string, size: number, sliceRows: number) {
  const summary = await summariseModificationFile(slicesOf(text, size));
  const slices: ParsedRow[][] = [];
  if (summary.ok) for await (const slice of modificationFileRows(slicesOf(text, size), sliceRows)) slices.push(slice);
  return { summary, slices };
}

/** Fails unless reading `text` in slices of `size` gives exactly what parsing it whole gives. */
async function expectSameAsWhole(text: string, size: number, sliceRows = 2): Promise<void> {
  const whole = parseModificationFile(text);
  const { summary, slices } = await readSliced(text, size, sliceRows);
  if (!whole.ok) {
    expect(summary).toEqual(whole);
    return;
  }
  expect(summary).toEqual({ ok: true, format: whole.format, columns: whole.columns, records: whole.rows.length });
  expect(slices.flat()).toEqual(whole.rows);
  expect(slices.slice(0, -1).every((slice) => slice.length === sliceRows)).toBe(true);
  expect(slices.every((slice) => slice.length > 0 && slice.length <= sliceRows)).toBe(true);
}

/** Every way of cutting the text into equal slices, down to one character each. */
async function expectSameForEverySliceSize(text: string): Promise<void> {
  for (let size = 1; size <= text.length; size++) await expectSameAsWhole(text, size);
}

describe('reading a modification file in slices', () => {
  it('reads a quoted field whose line break falls on any slice boundary as one row', async () => {
    await expectSameForEverySliceSize(
      'Password,ClickID,REASON\r\npw,c1,"first line\r\nsecond, ""quoted"" line"\r\npw,c2,plain\r\n',
    );
  });

  it('ends one row, not two, at a CRLF cut between two slices, and keeps CR-only and LF-only files apart', async () => {
    await expectSameForEverySliceSize('Password\tTransactionID\r\npw\t1\r\n\r\npw\t2\r\npw\t3');
    await expectSameForEverySliceSize('Password\tTransactionID\rpw\t1\r\rpw\t2\r');
    await expectSameForEverySliceSize('Password\tTransactionID\npw\t1\n\npw\t2\n');
  });

  it('finds a header line after a BOM and blank lines, however the text is cut', async () => {
    await expectSameForEverySliceSize('\ufeff\r\n ,,\r\n\r\nPassword,TransactionID\r\npw,1\r\n');
    await expectSameForEverySliceSize('\n\n  \t\nPassword\tClickID\tAP\npw\tc\t1.00');
  });

  it('refuses what the whole-text parser refuses, with the same reason, however the text is cut', async () => {
    await expectSameForEverySliceSize('Password\tClickID\npw\tc1\npw\t"c2\npw\tc3\n');
    await expectSameForEverySliceSize('Password\t"ClickID\n');
    await expectSameForEverySliceSize('Passwrd\tCID\tAP\n1\t2\t3\n');
    await expectSameForEverySliceSize(' ,, \r\n\r\n');
    await expectSameForEverySliceSize('');
  });

  it('gives rows in full slices and no empty slice when the row count is an exact multiple', async () => {
    const text = `Password\tTransactionID\n${['1', '2', '3', '4', '5', '6'].map((id) => `pw\t${id}`).join('\n')}\n`;
    const { slices } = await readSliced(text, 7, 3);
    expect(slices.map((slice) => slice.map((row) => row.rowNumber))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('reads any file a spreadsheet could write exactly as the whole-text parser does, however it is cut', async () => {
    const character = fc.constantFrom('a', '7', ' ', '\t', ',', '"', '\r', '\n', 'é', '😀');
    const value = fc.string({ unit: character, maxLength: 5 });
    const columns = ['Password', 'TransactionID', 'AP'];
    const layout = fc.record({
      delimiter: fc.constantFrom('\t', ','),
      eol: fc.constantFrom('\r\n', '\n', '\r'),
      bom: fc.boolean(),
      blankLinesBefore: fc.integer({ min: 0, max: 2 }),
      rows: fc.array(fc.array(value, { minLength: 0, maxLength: 4 }), { maxLength: 6 }),
      // Sometimes the file is cut off inside a quoted value.
      tail: fc.constantFrom('', '', 'pw,"open'),
      size: fc.integer({ min: 1, max: 16 }),
      sliceRows: fc.integer({ min: 1, max: 3 }),
    });
    const field = (v: string, delimiter: string) =>
      v.includes(delimiter) || /["\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    await fc.assert(
      fc.asyncProperty(layout, async ({ delimiter, eol, bom, blankLinesBefore, rows, tail, size, sliceRows }) => {
        const lines = [columns, ...rows].map((fields) => fields.map((v) => field(v, delimiter)).join(delimiter));
        const text = `${bom ? '\ufeff' : ''}${eol.repeat(blankLinesBefore)}${lines.join(eol)}${eol}${tail}`;
        await expectSameAsWhole(text, size, sliceRows);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the whole-text parser on arbitrary text, stray quotes and broken files included', async () => {
    const character = fc.constantFrom('a', ' ', '\t', ',', '"', '\r', '\n', '\ufeff', 'é');
    const input = fc.record({
      header: fc.constantFrom('Password\tTransactionID', 'Password,ClickID', 'Password\tFoo', ''),
      body: fc.string({ unit: character, maxLength: 30 }),
      size: fc.integer({ min: 1, max: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ header, body, size }) => {
        await expectSameAsWhole(`${header}\n${body}`, size);
      }),
      { numRuns: 500 },
    );
  });
});
