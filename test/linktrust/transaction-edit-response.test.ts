import express from 'express';
import { listenOnLoopback, rawRequest, WireAnswer } from '../http/raw-http';
import { buildScene } from '../support/factories';
import { useTestServer } from '../support/test-server';

// /transaction.edit writes its XML answer itself rather than through express's res.send: each answer
// must stay what res.type('text/xml; charset=utf-8').send(xml) sends — status, headers in order, bytes.
describe('/transaction.edit answer as sent on the wire', () => {
  const context = useTestServer('sqlite');
  let reference: Awaited<ReturnType<typeof listenOnLoopback>>;
  let referenceXml = '';

  beforeAll(async () => {
    // The way the route answered before: express's res.send, with the app's settings.
    const app = express();
    app.set('etag', false);
    app.disable('x-powered-by');
    app.all('/transaction.edit', (_req, res) => {
      res.status(200).type('text/xml; charset=utf-8').send(referenceXml);
    });
    reference = await listenOnLoopback(app);
  });
  afterAll(() => reference.close());

  /** The answer's part written by the route: everything after X-Request-Id, and the status and body. */
  function written(answer: WireAnswer) {
    const start = answer.headers.findIndex(([name]) => name === 'X-Request-Id') + 1;
    return { status: answer.status, headers: answer.headers.slice(start), body: answer.body };
  }

  /** Sends the request to the app, then has res.send answer it with the XML the app answered. */
  async function compare(path: string, options: Parameters<typeof rawRequest>[2] = {}) {
    const answer = await rawRequest(context.server.baseUrl, path, options);
    referenceXml = answer.status === 200 ? answer.body : '';
    const bySend = await rawRequest(reference.baseUrl, path, options);
    return { answer: written(answer), bySend: { status: bySend.status, headers: bySend.headers, body: bySend.body } };
  }

  it('answers a success like res.send, Content-Length in bytes', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const { answer, bySend } = await compare(
      `/transaction.edit?Password=${campaign.password}&TransactionID=${transaction.id}&AP=1.25&REASON=caf%C3%A9%20%E2%9C%93`,
    );
    expect(answer.body).toContain('<REASON>café ✓</REASON>');
    expect(answer.headers).toEqual([
      ['Content-Type', 'text/xml; charset=utf-8'],
      ['Content-Length', String(Buffer.byteLength(answer.body))],
    ]);
    expect(answer).toEqual(bySend);
  });

  it('answers a failure, and a long POSTed answer (over 1,000 characters), like res.send', async () => {
    const failure = await compare('/transaction.edit?Password=wrong&TransactionID=1');
    expect(failure.answer.body).toContain('<Succeeded>False</Succeeded>');
    expect(failure.answer).toEqual(failure.bySend);

    const reason = 'ü'.repeat(255);
    const long = await compare('/transaction.edit', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Password=wrong&TransactionID=1&ClickID=${'c'.repeat(500)}&REASON=${encodeURIComponent(reason)}`,
    });
    expect(long.answer.body.length).toBeGreaterThan(1000);
    expect(long.answer).toEqual(long.bySend);
  });

  it('answers a remembered (idempotent) answer like res.send', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const path = `/transaction.edit?Password=${campaign.password}&TransactionID=${transaction.id}&MP=4.00`;
    const first = await rawRequest(context.server.baseUrl, path, {
      headers: { 'idempotency-key': `key-${transaction.id}` },
    });
    const { answer, bySend } = await compare(path, { headers: { 'idempotency-key': `key-${transaction.id}` } });
    expect(answer.body).toBe(first.body);
    expect(answer).toEqual(bySend);
  });

  it.each([
    ['If-None-Match: *', { 'if-none-match': '*' }],
    ['If-None-Match with a tag', { 'if-none-match': '"abc"' }],
    ['If-Modified-Since', { 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
  ])('answers a conditional GET (%s) exactly as res.send does', async (_name, headers) => {
    const answer = await rawRequest(context.server.baseUrl, '/transaction.edit?Password=wrong&TransactionID=1', {
      headers,
    });
    referenceXml = await rawRequest(context.server.baseUrl, '/transaction.edit?Password=wrong&TransactionID=1').then(
      (plain) => plain.body,
    );
    const bySend = await rawRequest(reference.baseUrl, '/transaction.edit?Password=wrong&TransactionID=1', { headers });
    expect(written(answer)).toEqual({ status: bySend.status, headers: bySend.headers, body: bySend.body });
  });
});
