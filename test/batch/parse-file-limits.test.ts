import { MAX_FIELDS_PER_ROW, MAX_ROW_CHARACTERS } from '../../src/batch/csv-records';
import { parseModificationFile, summariseModificationFile } from '../../src/batch/parse-file';

/** The text in slices of `size` characters, as the upload's decoder hands it over. */
function* slicesOf(text: string, size = 16 * 1024): Generator<string> {
  for (let start = 0; start < text.length; start += size) yield text.slice(start, start + size);
}

/** What the whole-text parser and the sliced reader (the upload's) make of a file: they must agree. */
async function bothReaders(text: string) {
  const whole = parseModificationFile(text);
  const sliced = await summariseModificationFile(slicesOf(text));
  return { whole: whole.ok ? { ok: true } : whole, sliced: sliced.ok ? { ok: true } : sliced };
}

const refused = (reason: string) => ({ whole: { ok: false, reason }, sliced: { ok: false, reason } });
const accepted = { whole: { ok: true }, sliced: { ok: true } };

const HEADER = 'Password,TransactionID,AP\n';
const HEADER_TOO_LONG = `the header line is longer than ${(MAX_ROW_CHARACTERS + MAX_FIELDS_PER_ROW).toLocaleString('en-US')} characters`;
const TAB_HEADER = 'Password\tTransactionID\tAP\n';

describe('limits while parsing a Lead Poster file', () => {
  it(`takes a row of ${MAX_FIELDS_PER_ROW} fields (Excel's most), and refuses one more`, async () => {
    const widest = `pw,1,2.00${','.repeat(MAX_FIELDS_PER_ROW - 3)}\n`;
    expect(await bothReaders(HEADER + widest)).toEqual(accepted);
    expect(await bothReaders(`${HEADER}${widest.slice(0, -1)},\n`)).toEqual(
      refused('row 1 has more than 16,384 fields'),
    );
    expect(await bothReaders(`${TAB_HEADER}pw\t1\t2.00${'\t'.repeat(MAX_FIELDS_PER_ROW)}\n`)).toEqual(
      refused('row 1 has more than 16,384 fields'),
    );
  });

  it('counts the header and every row, blank rows included, when it names the row', async () => {
    const wideHeader = `Password,TransactionID,AP${','.repeat(MAX_FIELDS_PER_ROW)}\npw,1,2.00\n`;
    expect(await bothReaders(wideHeader)).toEqual(refused('the header has more than 16,384 fields'));
    const third = `${HEADER}pw,1,2.00\n\n${','.repeat(MAX_FIELDS_PER_ROW + 5)}\n`;
    expect(await bothReaders(third)).toEqual(refused('row 3 has more than 16,384 fields'));
  });

  it(`refuses a row whose fields hold more than ${MAX_ROW_CHARACTERS} characters (1 MiB), quoted or not`, async () => {
    const longest = `pw,1,${'x'.repeat(MAX_ROW_CHARACTERS - 3)}\n`;
    expect(await bothReaders(HEADER + longest)).toEqual(accepted);
    expect(await bothReaders(`${HEADER}pw,1,${'x'.repeat(MAX_ROW_CHARACTERS)}\n`)).toEqual(
      refused(`row 1 is longer than ${MAX_ROW_CHARACTERS.toLocaleString('en-US')} characters`),
    );
    expect(await bothReaders(`${HEADER}pw,1,2.00\npw,2,"${'line\n'.repeat(MAX_ROW_CHARACTERS / 4)}"\n`)).toEqual(
      refused(`row 2 is longer than ${MAX_ROW_CHARACTERS.toLocaleString('en-US')} characters`),
    );
  });

  it('refuses a header line that never ends without gathering it whole', async () => {
    const endless = `Password,TransactionID,AP${'x'.repeat(MAX_ROW_CHARACTERS + MAX_FIELDS_PER_ROW)}`;
    expect(await bothReaders(endless)).toEqual(refused(HEADER_TOO_LONG));
    // The sliced reader gives up after the limit, whatever follows.
    const slices = slicesOf(`${endless}${'y'.repeat(20 * 1024 * 1024)}\n`);
    let read = 0;
    const counted = (function* () {
      for (const slice of slices) {
        read += slice.length;
        yield slice;
      }
    })();
    expect(await summariseModificationFile(counted)).toEqual({ ok: false, reason: HEADER_TOO_LONG });
    expect(read).toBeLessThan(MAX_ROW_CHARACTERS + MAX_FIELDS_PER_ROW + 2 * 16 * 1024);
  });

  it('refuses a row of 20 million commas (20 MB) read in slices', async () => {
    const row = ','.repeat(20_000_000);
    const summary = await summariseModificationFile(slicesOf(`${HEADER}pw,1,2.00\n${row}\n`));
    expect(summary).toEqual({ ok: false, reason: 'row 2 has more than 16,384 fields' });
  });
});
