import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { readLinkTrustAnswer } from '../../../src/batch/lead-poster/answer';
import { redactUrl, resolveEndpoint } from '../../../src/batch/lead-poster/endpoint';
import { backoffDelay } from '../../../src/batch/lead-poster/request';
import { isFinished, readResultsFile } from '../../../src/batch/lead-poster/results';
import { formatResultsCsv } from '../../../src/batch/results-csv';
import type { RowResult } from '../../../src/core/row-result';
import { extraFieldsMessage } from '../../../src/batch/run-row';
import { renderLinkTrustResponse } from '../../../src/linktrust/xml-response';

// LinkTrust's own failure sample, including its malformed `<CID><CID>`.
const LINKTRUST_FAILURE_SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<LinkTrust><ApiResponse action="ModifyTransaction">
<Succeeded>False</Succeeded>
<Error><Type>permanent</Type>
<Message>Permanent Failure: Invalid authentication credentials.</Message>
</Error><SuppliedValues>
<TransactionId></TransactionId>
<ClickId></ClickId>
<MerchantReferenceId></MerchantReferenceId>
<CID><CID>
<AP></AP>
<MP></MP>
<A></A>
<REASON></REASON>
</SuppliedValues>
</ApiResponse></LinkTrust>`;

const NO_SUPPLIED = {
  transactionId: '',
  clickId: '',
  merchantReferenceId: '',
  cid: '',
  ap: '',
  mp: '',
  a: '',
  reason: '',
};

describe('readLinkTrustAnswer', () => {
  it("reads LinkTrust's failure sample although it is not well-formed XML", () => {
    expect(readLinkTrustAnswer(LINKTRUST_FAILURE_SAMPLE)).toEqual({
      succeeded: false,
      type: 'permanent',
      message: 'Permanent Failure: Invalid authentication credentials.',
    });
  });

  it("reads txedit's own answers, success and each failure type", () => {
    expect(readLinkTrustAnswer(renderLinkTrustResponse({ kind: 'applied' } as never, NO_SUPPLIED))).toEqual({
      succeeded: true,
    });
    expect(readLinkTrustAnswer(renderLinkTrustResponse({ kind: 'nightly_in_progress' }, NO_SUPPLIED))).toEqual({
      succeeded: false,
      type: 'temporary',
      message: 'Temporary failure: Nightly processing in progress',
    });
    expect(readLinkTrustAnswer(renderLinkTrustResponse({ kind: 'system_error' }, NO_SUPPLIED))).toEqual({
      succeeded: false,
      type: 'system',
      message: 'System level error',
    });
  });

  it('decodes escaped characters in the message', () => {
    const body =
      '<LinkTrust><ApiResponse><Succeeded>False</Succeeded><Error><Type>permanent</Type><Message>A &amp; B &lt;C&gt; &#233;&#x41;</Message></Error></ApiResponse></LinkTrust>';
    expect(readLinkTrustAnswer(body)).toEqual({ succeeded: false, type: 'permanent', message: 'A & B <C> éA' });
  });

  it('classifies a failure without a known Type by its message prefix', () => {
    const answer = (message: string) =>
      `<LinkTrust><Succeeded>False</Succeeded><Error><Message>${message}</Message></Error></LinkTrust>`;
    expect(readLinkTrustAnswer(answer('Temporary failure: Hourly processing not completed'))).toMatchObject({
      type: 'temporary',
    });
    expect(readLinkTrustAnswer(answer('Permanent failure: Invalid transaction specified'))).toMatchObject({
      type: 'permanent',
    });
    expect(readLinkTrustAnswer(answer('Something odd'))).toMatchObject({ type: 'system' });
  });

  it('refuses bodies that are not LinkTrust answers', () => {
    expect(readLinkTrustAnswer('<html><body>502 Bad Gateway</body></html>')).toBeNull();
    expect(readLinkTrustAnswer('')).toBeNull();
    expect(readLinkTrustAnswer('<LinkTrust><ApiResponse></ApiResponse></LinkTrust>')).toBeNull();
  });
});

describe('resolveEndpoint', () => {
  it('keeps a full /transaction.edit URL, with its query', () => {
    const resolved = resolveEndpoint('https://track.example.com/transaction.edit?x=1');
    expect(resolved.ok && resolved.url.toString()).toBe('https://track.example.com/transaction.edit?x=1');
  });

  it('appends /transaction.edit to a base URL', () => {
    for (const base of ['https://track.example.com', 'https://track.example.com/', 'http://127.0.0.1:8080']) {
      const resolved = resolveEndpoint(base);
      expect(resolved.ok && resolved.url.pathname).toBe('/transaction.edit');
    }
  });

  it('keeps any other path as given', () => {
    const resolved = resolveEndpoint('https://example.com/lt/transaction.edit');
    expect(resolved.ok && resolved.url.pathname).toBe('/lt/transaction.edit');
  });

  it('refuses what is not an http(s) URL', () => {
    expect(resolveEndpoint('track.example.com')).toEqual({ ok: false, reason: 'not a URL: track.example.com' });
    expect(resolveEndpoint('ftp://track.example.com')).toEqual({
      ok: false,
      reason: 'the URL must start with http:// or https:// (got ftp:)',
    });
  });
});

describe('redactUrl', () => {
  it('hides user-info and a Password query value', () => {
    expect(redactUrl('https://user:pw@track.example.com/transaction.edit?A=no&password=hunter2&B=1')).toBe(
      'https://***@track.example.com/transaction.edit?A=no&password=***&B=1',
    );
  });
});

describe('backoffDelay', () => {
  it('doubles from 1 s with jitter between half and all of the step, capped at 60 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, random) => {
          const nominal = Math.min(1000 * 2 ** retry, 60_000);
          const delay = backoffDelay(retry, () => random);
          return delay >= nominal / 2 && delay <= nominal;
        },
      ),
    );
    expect([0, 1, 2, 3].map((retry) => backoffDelay(retry, () => 0.999999))).toEqual([1000, 2000, 4000, 8000]);
  });

  it("waits at least a server's Retry-After, up to five minutes", () => {
    expect(backoffDelay(0, () => 0, 7000)).toBe(7000);
    expect(backoffDelay(0, () => 0, 3_600_000)).toBe(300_000);
    expect(backoffDelay(3, () => 0, 1000)).toBe(4000);
  });
});

describe('readResultsFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lead-poster-results-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const text = fc.string({ unit: 'binary', maxLength: 30 });
  const result = fc.record({
    rowNumber: fc.nat(),
    succeeded: fc.boolean(),
    message: text,
    transactionId: text,
    clickId: text,
    merchantReferenceId: text,
    cid: text,
  });

  it("reads back what the server's results writer wrote, whatever the values; the latest line per row wins", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(result, { maxLength: 8 }), async (results) => {
        const file = path.join(dir, 'results.csv');
        fs.writeFileSync(file, formatResultsCsv(results));
        const read = await readResultsFile(file);
        const latest = new Map(results.map((r) => [r.rowNumber, r]));
        expect(read).toEqual({ ok: true, exists: true, records: latest });
      }),
      { numRuns: 60 },
    );
  });

  it('reads a missing file as no results', async () => {
    expect(await readResultsFile(path.join(dir, 'none.csv'))).toEqual({ ok: true, exists: false, records: new Map() });
  });
});

describe('isFinished (the resume rule)', () => {
  const ids = { transactionId: '1001', clickId: '', merchantReferenceId: '', cid: '' };
  const record = (succeeded: boolean, message: string): RowResult => ({ rowNumber: 1, succeeded, message, ...ids });

  it('counts successes and permanent failures as finished, everything else as to be posted again', () => {
    const finished = (r: RowResult) => isFinished(r, ids, { repostFailed: false });
    expect(finished(record(true, 'Succeeded'))).toBe(true);
    expect(finished(record(false, 'Permanent failure: Invalid authentication credentials'))).toBe(true);
    expect(finished(record(false, 'Permanent Failure: Invalid authentication credentials.'))).toBe(true);
    expect(finished(record(false, extraFieldsMessage('1')))).toBe(true);
    expect(finished(record(false, 'Temporary failure: Nightly processing in progress'))).toBe(false);
    expect(finished(record(false, 'System level error'))).toBe(false);
    expect(finished(record(false, 'Network error: connect ECONNREFUSED 127.0.0.1:9 (6 attempts)'))).toBe(false);
    expect(finished(record(false, 'HTTP 404 Not Found (1 attempt)'))).toBe(false);
  });

  it('posts permanent failures again when asked to, successes never', () => {
    expect(
      isFinished(record(false, 'Permanent failure: Invalid transaction specified'), ids, { repostFailed: true }),
    ).toBe(false);
    expect(isFinished(record(true, 'Succeeded'), ids, { repostFailed: true })).toBe(true);
  });

  it('does not trust a record made for another version of the row', () => {
    expect(isFinished(record(true, 'Succeeded'), { ...ids, transactionId: '1002' }, { repostFailed: false })).toBe(
      false,
    );
  });
});
