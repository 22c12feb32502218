import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentedClient, operationFor, type Document } from './openapi-support';

// The checker of the response test must be able to fail: an answer off its schema, a status or a
// content type the document does not name.
describe('the documented-answer checker', () => {
  const document: Document = {
    paths: {
      '/things/{id}': {
        get: {
          responses: {
            200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
            404: { content: { 'application/json': { schema: { type: 'object', required: ['error'] } } } },
          },
        },
      },
    },
    components: {
      schemas: {
        Thing: {
          type: 'object',
          properties: { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
          required: ['id', 'at'],
          additionalProperties: false,
        },
      },
    },
  };
  let answer: { status: number; type: string; body: string };
  let server: http.Server;
  let client: DocumentedClient;

  beforeAll(async () => {
    server = http.createServer((_req, res) =>
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new DocumentedClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, document);
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });

  it('accepts an answer that matches its schema, through a shared schema', async () => {
    answer = json(200, { id: 1, at: '2026-12-05T08:00:00.000Z' });
    expect((await client.call('GET', '/things/1')).body).toEqual({ id: 1, at: '2026-12-05T08:00:00.000Z' });
    expect(client.seen.get('get /things/{id}')).toEqual(new Set([200]));
  });

  it('refuses a missing field, an extra field, a wrong type and a wrong format', async () => {
    for (const body of [
      { id: 1 },
      { id: 1, at: '2026-12-05T08:00:00Z', extra: true },
      { id: '1', at: '2026-12-05T08:00:00Z' },
      { id: 1, at: 'noon' },
    ]) {
      answer = json(200, body);
      await expect(client.call('GET', '/things/1')).rejects.toThrow('does not match its schema');
    }
  });

  it('refuses a status or a content type the document does not name, and a path it lacks', async () => {
    answer = json(409, { error: {} });
    await expect(client.call('GET', '/things/1')).rejects.toThrow('answered 409, not documented');
    answer = { status: 404, type: 'text/plain', body: 'Not Found' };
    await expect(client.call('GET', '/things/1')).rejects.toThrow('sent text/plain');
    expect(() => operationFor(document, 'get', '/others/1')).toThrow('the document has no GET /others/1');
  });
});
