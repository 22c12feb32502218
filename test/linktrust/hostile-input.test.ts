import fc from 'fast-check';
import net from 'node:net';
import { decodeFormPairs } from '../../src/linktrust/raw-parameters';
import { parseModificationParameters } from '../../src/linktrust/request-parser';
import { renderLinkTrustResponse } from '../../src/linktrust/xml-response';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { parseLinkTrustXml } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';

/** Sends raw bytes as an HTTP request and returns status line, headers and body. */
function rawRequest(port: number, request: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const NAMES = [
  'Password',
  'TransactionID',
  'transactionid',
  'ClickID',
  'Merchantreferenceid',
  'CID',
  'AP',
  'mp',
  'A',
  'executeaffiliatepixel',
  'REASON',
  'IdempotencyKey',
  'x',
  '%',
  '',
];
const arbitraryQuery = fc
  .array(
    fc.tuple(
      fc.constantFrom(...NAMES),
      fc.oneof(fc.string(), fc.constantFrom('%ZZ', '%FF', '%', '1', '0.00', 'yes', '<&>"', '\u0000', '%00')),
    ),
    { maxLength: 12 },
  )
  .map((pairs) => pairs.map(([n, v]) => `${n}=${v.replace(/[#\s]/g, encodeURIComponent)}`).join('&'));

describe('parameter parser and XML renderer under arbitrary input', () => {
  it('always answers with well-formed XML of the documented shape', () => {
    fc.assert(
      fc.property(arbitraryQuery, (query) => {
        const parsed = parseModificationParameters(decodeFormPairs(Buffer.from(query, 'utf8').toString('latin1')));
        const outcome = parsed.ok ? ({ kind: 'invalid_transaction' } as const) : parsed.outcome;
        const answer = parseLinkTrustXml(renderLinkTrustResponse(outcome, parsed.supplied));
        expect(answer.suppliedOrder).toEqual([
          'TransactionId',
          'ClickId',
          'MerchantReferenceId',
          'CID',
          'AP',
          'MP',
          'A',
          'REASON',
        ]);
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(testEngines())('hostile requests to /transaction.edit on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    port = Number(new URL(server.baseUrl).port);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('never answers 5xx or malformed XML, and never changes anything on a failure answer (fuzz over the real route)', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const snapshot = async () =>
      JSON.stringify(await server.services.stores.transactions.getById(transaction.id), (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v,
      );
    await fc.assert(
      fc.asyncProperty(arbitraryQuery, fc.boolean(), fc.boolean(), async (query, withPassword, asPost) => {
        const before = await snapshot();
        const historyBefore = (await server.services.stores.modifications.listForTransaction(transaction.id)).length;
        const fixed = `TransactionID=${transaction.id}${withPassword ? `&Password=${campaign.password}` : ''}`;
        const response = asPost
          ? await fetch(`${server.baseUrl}/transaction.edit`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: `${query}&${fixed}`,
            })
          : await fetch(`${server.baseUrl}/transaction.edit?${query}&${fixed}`);
        expect(response.status).toBe(200);
        const answer = parseLinkTrustXml(await response.text());
        if (answer.succeeded === 'False') {
          expect(await snapshot()).toBe(before);
          expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toHaveLength(
            historyBefore,
          );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers percent-encoded invalid UTF-8 and bad escapes with the documented message', async () => {
    for (const [query, name] of [
      ['TransactionID=1&REASON=%C3%28', 'REASON'],
      ['TransactionID=1&ap=%ZZ', 'ap'],
      ['TransactionID=1&ClickID=%E2%82', 'ClickID'],
    ]) {
      const { status, body } = await rawRequest(
        port,
        `GET /transaction.edit?${query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(status).toBe(200);
      expect(parseLinkTrustXml(body).error?.message).toBe(`Permanent failure: Invalid parameter value for ${name}`);
    }
  });

  it('leaves raw (unencoded) non-ASCII bytes in the request line to Node, which answers 400 with no page', async () => {
    const request = Buffer.concat([
      Buffer.from('GET /transaction.edit?REASON='),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    ]);
    const { status, body } = await rawRequest(port, request);
    expect(status).toBe(400);
    expect(body).not.toMatch(/<html/i);
  });

  it('ignores JSON, multipart and XML bodies: only query parameters count', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    for (const [type, body] of [
      ['application/json', JSON.stringify({ Password: campaign.password, TransactionID: transaction.id })],
      [
        'multipart/form-data; boundary=x',
        `--x\r\nContent-Disposition: form-data; name="TransactionID"\r\n\r\n${transaction.id}\r\n--x--\r\n`,
      ],
      ['text/xml', `<TransactionID>${transaction.id}</TransactionID>`],
    ]) {
      const response = await fetch(`${server.baseUrl}/transaction.edit?AP=1.00`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      expect(response.status).toBe(200);
      expect(parseLinkTrustXml(await response.text()).error?.message).toBe(
        'Permanent failure: Invalid transaction specified',
      );
    }
  });

  it('refuses an oversized URL (414), body (413) or parameter count (413) without XML it cannot echo', async () => {
    const longUrl = await fetch(`${server.baseUrl}/transaction.edit?REASON=${'x'.repeat(25_000)}`);
    expect(longUrl.status).toBe(414);
    const bigBody = await fetch(`${server.baseUrl}/transaction.edit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `REASON=${'x'.repeat(70_000)}`,
    });
    expect(bigBody.status).toBe(413);
    expect(bigBody.headers.get('content-type')).toMatch(/^text\/plain/);
    const many = await fetch(
      `${server.baseUrl}/transaction.edit?${Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&')}`,
    );
    expect(many.status).toBe(413);
    const hundred = await fetch(
      `${server.baseUrl}/transaction.edit?${Array.from({ length: 100 }, (_, i) => `p${i}=1`).join('&')}`,
    );
    expect(hundred.status).toBe(200);
  });
});
