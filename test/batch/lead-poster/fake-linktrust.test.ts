import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { postModificationFile, type PostFileOptions, type PostSummary } from '../../../src/batch/lead-poster/post-file';
import { startReceiver, type Receiver } from '../../support/receiver';

/*
 * Transport behaviour against a stand-in for LinkTrust on loopback: what it answers is up to each test,
 * so temporary failures, 5xx, HTML pages, hangs and refused connections can all be staged.
 */

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<LinkTrust><ApiResponse action="ModifyTransaction">\n';
// LinkTrust's sample layout, its `<CID><CID>` typo included: the poster must cope with the real thing.
const SUPPLIED =
  '<SuppliedValues>\n<TransactionId></TransactionId>\n<ClickId></ClickId>\n<MerchantReferenceId></MerchantReferenceId>\n<CID><CID>\n<AP></AP>\n<MP></MP>\n<A></A>\n<REASON></REASON>\n</SuppliedValues>\n</ApiResponse></LinkTrust>';
const SUCCESS = `${HEAD}<Succeeded>True</Succeeded>\n${SUPPLIED}`;
const failure = (type: string, message: string) =>
  `${HEAD}<Succeeded>False</Succeeded>\n<Error><Type>${type}</Type>\n<Message>${message}</Message>\n</Error>${SUPPLIED}`;
const NIGHTLY = failure('temporary', 'Temporary failure: Nightly processing in progress');
const BAD_PASSWORD = failure('permanent', 'Permanent Failure: Invalid authentication credentials.');

const HEADER = 'Password\tTransactionID\tAP\tMP\tA';
const PASSWORD = 'pw-Sekrit-7731';
const txRows = (...ids: number[]) =>
  [HEADER, ...ids.map((id) => `${PASSWORD}\t${id}\t1.50\t3.00\tyes`)].join('\r\n') + '\r\n';

function send(
  res: http.ServerResponse,
  body: string,
  status = 200,
  type = 'text/xml; charset=utf-8',
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(body);
}

/** Reads a request body, then answers with `answer(form, index)`. */
function answering(
  receiver: Receiver,
  answer: (form: URLSearchParams, index: number, res: http.ServerResponse) => void,
) {
  receiver.respond((req, res, index) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => answer(new URLSearchParams(body), index, res));
  });
}

describe('Lead Poster against a LinkTrust stand-in', () => {
  let receiver: Receiver;
  let dir: string;
  let sleeps: number[];
  const bodies: string[] = [];

  beforeEach(async () => {
    receiver = await startReceiver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lead-poster-'));
    sleeps = [];
    bodies.length = 0;
  });
  afterEach(async () => {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeInput(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  /** Runs the poster with no real waiting (each wait is recorded) and mid-range jitter. */
  async function run(file: string, options: Partial<PostFileOptions> = {}): Promise<PostSummary> {
    const result = await postModificationFile({
      file,
      url: receiver.url,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
      ...options,
    });
    if (!result.ok) throw new Error(`refused: ${result.reason}`);
    return result.summary;
  }

  const resultsOf = (file: string) => fs.readFileSync(`${file}.results.csv`, 'utf8');

  it('posts each row as a form body to /transaction.edit: names as spelled, empty cells left out', async () => {
    const file = writeInput(
      'mixed.txt',
      `Password\tTransactionid\tAP\tMP\tA\tREASON\r\n${PASSWORD}\t1001\t\t2.50\tno\tcustomer refund, partial & late\r\n`,
    );
    let contentType: string | undefined;
    receiver.respond((req, res) => {
      contentType = req.headers['content-type'];
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        send(res, SUCCESS);
      });
    });
    const summary = await run(file);
    expect(receiver.received.map((r) => [r.method, r.url])).toEqual([['POST', '/transaction.edit']]);
    expect(contentType).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect([...new URLSearchParams(bodies[0])]).toEqual([
      ['Password', PASSWORD],
      ['Transactionid', '1001'],
      ['MP', '2.50'],
      ['A', 'no'],
      ['REASON', 'customer refund, partial & late'],
    ]);
    expect(summary).toMatchObject({
      total: 1,
      posted: 1,
      succeeded: 1,
      failed: 0,
      skipped: 0,
      allSucceeded: true,
      interrupted: false,
    });
    expect(resultsOf(file)).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n1,True,Succeeded,1001,,,\r\n',
    );
  });

  it('retries a temporary failure with growing waits and records the success', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, index, res) => send(res, index < 3 ? NIGHTLY : SUCCESS));
    const summary = await run(file);
    expect(receiver.received).toHaveLength(4);
    expect(sleeps).toEqual([750, 1500, 3000]);
    expect(summary).toMatchObject({ succeeded: 1, failed: 0 });
    expect(resultsOf(file)).toContain('\r\n1,True,Succeeded,1001,,,\r\n');
  });

  it("records a temporary failure with the server's exact message once the retries are used up", async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, _index, res) => send(res, NIGHTLY));
    const summary = await run(file, { retries: 2 });
    expect(receiver.received).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(summary).toMatchObject({ succeeded: 0, failed: 1, allSucceeded: false });
    expect(resultsOf(file)).toContain('\r\n1,False,Temporary failure: Nightly processing in progress,1001,,,\r\n');
  });

  it('does not retry a permanent or a system failure', async () => {
    const file = writeInput('tx.txt', txRows(1001, 1002));
    answering(receiver, (form, _index, res) =>
      send(res, form.get('TransactionID') === '1001' ? BAD_PASSWORD : failure('system', 'System level error')),
    );
    const summary = await run(file, { concurrency: 1 });
    expect(receiver.received).toHaveLength(2);
    expect(sleeps).toEqual([]);
    expect(summary).toMatchObject({ succeeded: 0, failed: 2 });
    expect(resultsOf(file)).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n' +
        '1,False,Permanent Failure: Invalid authentication credentials.,1001,,,\r\n' +
        '2,False,System level error,1002,,,\r\n',
    );
  });

  it('retries HTTP 5xx and answers that are not LinkTrust XML', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, index, res) => {
      if (index === 0) send(res, 'upstream down', 502, 'text/plain');
      else if (index === 1) send(res, '<html><body>Maintenance</body></html>', 200, 'text/html');
      else send(res, SUCCESS);
    });
    const summary = await run(file);
    expect(receiver.received).toHaveLength(3);
    expect(summary.succeeded).toBe(1);
  });

  it('records the last transport problem and the attempt count when retries run out', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, _index, res) => send(res, '<html>Maintenance</html>', 200, 'text/html'));
    await run(file, { retries: 1 });
    expect(resultsOf(file)).toContain(
      '\r\n1,False,"Not a LinkTrust answer (HTTP 200 OK, text/html) (2 attempts)",1001,,,\r\n',
    );
  });

  it('does not retry a 404 (a wrong --url), and posts the row again on a re-run', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, _index, res) => send(res, 'Not Found', 404, 'text/plain'));
    await run(file);
    expect(receiver.received).toHaveLength(1);
    expect(resultsOf(file)).toContain('\r\n1,False,HTTP 404 Not Found (1 attempt),1001,,,\r\n');
    answering(receiver, (_form, _index, res) => send(res, SUCCESS));
    const again = await run(file);
    expect(receiver.received).toHaveLength(2);
    expect(again).toMatchObject({ succeeded: 1, skipped: 0, allSucceeded: true });
    expect(resultsOf(file)).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n1,True,Succeeded,1001,,,\r\n',
    );
  });

  it("waits at least a 429's Retry-After", async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, index, res) =>
      index === 0 ? send(res, 'slow down', 429, 'text/plain', { 'retry-after': '7' }) : send(res, SUCCESS),
    );
    await run(file);
    expect(sleeps).toEqual([7000]);
  });

  it('gives up on an attempt that gets no answer in time and tries again', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    // The first request is never answered.
    answering(receiver, (_form, index, res) => (index === 0 ? undefined : send(res, SUCCESS)));
    const summary = await run(file, { timeoutMs: 300 });
    expect(receiver.received).toHaveLength(2);
    expect(summary.succeeded).toBe(1);
  });

  it('records a refused connection as a network error after the retries', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const file = writeInput('tx.txt', txRows(1001));
    const summary = await run(file, { url: `http://127.0.0.1:${port}/transaction.edit`, retries: 2 });
    expect(sleeps).toHaveLength(2);
    expect(summary).toMatchObject({ failed: 1, allSucceeded: false });
    expect(resultsOf(file)).toContain(
      `\r\n1,False,Network error: connect ECONNREFUSED 127.0.0.1:${port} (3 attempts),1001,,,\r\n`,
    );
  });

  it('never has more rows in flight than the concurrency', async () => {
    const file = writeInput('tx.txt', txRows(...Array.from({ length: 20 }, (_, i) => 2001 + i)));
    let inFlight = 0;
    let maxInFlight = 0;
    const held: http.ServerResponse[] = [];
    answering(receiver, (_form, _index, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('finish', () => inFlight--);
      held.push(res);
      // Answer in batches once four are waiting; the pause lets any request beyond the bound arrive first.
      if (held.length === 4) setTimeout(() => held.splice(0).forEach((waiting) => send(waiting, SUCCESS)), 25);
    });
    const summary = await run(file, { concurrency: 4 });
    expect(summary.succeeded).toBe(20);
    expect(maxInFlight).toBe(4);
  });

  it('keeps the password out of the results, even when the server repeats it', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (form, _index, res) =>
      send(res, failure('permanent', `Permanent failure: no campaign takes ${form.get('Password')}`)),
    );
    const summary = await run(file);
    const results = resultsOf(file);
    expect(results).toContain('\r\n1,False,Permanent failure: no campaign takes ***,1001,,,\r\n');
    expect(results).not.toContain(PASSWORD);
    expect(JSON.stringify(summary)).not.toContain(PASSWORD);
  });

  it('refuses a row with more fields than the header without posting it', async () => {
    const file = writeInput(
      'tx.txt',
      `${HEADER}\n${PASSWORD}\t1001\t1.50\t3.00\tyes\textra\n${PASSWORD}\t1002\t1.50\t3.00\tyes\n`,
    );
    answering(receiver, (_form, _index, res) => send(res, SUCCESS));
    const summary = await run(file);
    expect(receiver.received).toHaveLength(1);
    expect(summary).toMatchObject({ succeeded: 1, failed: 1 });
    expect(resultsOf(file)).toContain(
      '\r\n1,False,Permanent failure: Row has 1 more field than the header has columns,1001,,,\r\n',
    );
  });

  it('refuses the whole file with the parser’s reason, posting nothing and writing no results', async () => {
    const file = writeInput('bad.txt', 'Password\tTransactionID\tColour\nx\t1\tred\n');
    const result = await postModificationFile({ file, url: receiver.url });
    expect(result).toEqual({ ok: false, reason: `${file}: unknown column(s): Colour` });
    expect(receiver.received).toHaveLength(0);
    expect(fs.existsSync(`${file}.results.csv`)).toBe(false);
  });

  it('stops starting rows when the signal aborts, and a re-run posts only the rest', async () => {
    const file = writeInput('tx.txt', txRows(1001, 1002, 1003, 1004, 1005));
    answering(receiver, (_form, _index, res) => send(res, SUCCESS));
    const stop = new AbortController();
    const first = await run(file, {
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => p.done === 2 && stop.abort(),
    });
    expect(first).toMatchObject({ posted: 2, notPosted: 3, interrupted: true, allSucceeded: false });
    expect(receiver.received).toHaveLength(2);

    const second = await run(file, { concurrency: 1 });
    expect(second).toMatchObject({ posted: 3, skipped: 2, notPosted: 0, interrupted: false, allSucceeded: true });
    expect(receiver.received).toHaveLength(5);
    expect(resultsOf(file)).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n' +
        [1001, 1002, 1003, 1004, 1005].map((id, i) => `${i + 1},True,Succeeded,${id},,,\r\n`).join(''),
    );
  });

  it('leaves a row waiting for a retry unrecorded when the run is stopped', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    answering(receiver, (_form, _index, res) => send(res, NIGHTLY));
    const stop = new AbortController();
    const summary = await run(file, {
      signal: stop.signal,
      sleep: async (_ms, signal) => {
        stop.abort();
        throw signal?.reason;
      },
    });
    expect(summary).toMatchObject({ posted: 0, notPosted: 1, interrupted: true });
    expect(resultsOf(file)).toBe('Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n');
  });

  it('resumes from a results file whose last line a crash cut short', async () => {
    const file = writeInput('tx.txt', txRows(1001, 1002, 1003));
    fs.writeFileSync(
      `${file}.results.csv`,
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n1,True,Succeeded,1001,,,\r\n2,"Tempor',
    );
    answering(receiver, (form, _index, res) => {
      bodies.push(form.get('TransactionID') as string);
      send(res, SUCCESS);
    });
    const summary = await run(file, { concurrency: 1 });
    expect(bodies).toEqual(['1002', '1003']);
    expect(summary).toMatchObject({ skipped: 1, posted: 2, allSucceeded: true });
    expect(resultsOf(file)).toBe(
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n1,True,Succeeded,1001,,,\r\n2,True,Succeeded,1002,,,\r\n3,True,Succeeded,1003,,,\r\n',
    );
  });

  it('posts a row again when the input row changed since its result was recorded', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    fs.writeFileSync(
      `${file}.results.csv`,
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID\r\n1,True,Succeeded,9999,,,\r\n',
    );
    answering(receiver, (_form, _index, res) => send(res, SUCCESS));
    const summary = await run(file);
    expect(summary).toMatchObject({ skipped: 0, posted: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it('refuses to resume into a file that is not a results file', async () => {
    const file = writeInput('tx.txt', txRows(1001));
    const results = path.join(dir, 'notes.csv');
    fs.writeFileSync(results, 'my,own,notes\n');
    const result = await postModificationFile({ file, url: receiver.url, resultsPath: results });
    expect(result).toEqual({
      ok: false,
      reason: `${results} exists and is not a Lead Poster results file (its header is not Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID)`,
    });
    expect(fs.readFileSync(results, 'utf8')).toBe('my,own,notes\n');
    expect(receiver.received).toHaveLength(0);
  });
});
