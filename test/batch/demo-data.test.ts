import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { DEMO_PASSWORD, databaseIsEmpty, seedDemoData } from '../../db/seeds/demo-data';
import { parseImpactResultsCsv } from '../../src/impact/impact-results-csv';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, type TestServer } from '../support/test-server';
import { auth, drainBatches, uploadRaw } from './batch-helpers';

// The README's first steps on the demo data: its curl, and the sample impact.com file.
describe('demo data of a fresh embedded database', () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    expect(await databaseIsEmpty(database.db.knex)).toBe(true);
    await seedDemoData(database.db.knex, await bcrypt.hash(DEMO_PASSWORD, 4), Date.now());
    expect(await databaseIsEmpty(database.db.knex)).toBe(false);
    server = await startTestServer(database.db);
    // The server's scheduler rolls up at start; the test server runs no scheduler.
    await rollUpToNow(server.services);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it("answers the README's curl with a success", async () => {
    const answer = await editByGet(server.baseUrl, {
      Password: 'demo-password',
      TransactionID: '1001',
      AP: '0.00',
      MP: '0.00',
      A: 'no',
      REASON: 'returned',
    });
    expect(answer.body).toContain('<Succeeded>True</Succeeded>');
  });

  it('applies samples/impact-modifications.csv with the codes the README promises', async () => {
    const file = fs.readFileSync(path.join(__dirname, '../../samples/impact-modifications.csv'), 'utf8');
    const uploaded = await uploadRaw(server.baseUrl, file, { filename: 'impact-modifications.csv' });
    expect(uploaded.status).toBe(202);
    expect(uploaded.body).toMatchObject({ kind: 'impact', records: 4 });
    await drainBatches(server.services);
    const response = await fetch(`${server.baseUrl}/api/v1/batches/${uploaded.body.id}/results`, { headers: auth });
    const results = parseImpactResultsCsv(await response.text());
    expect(results.map((r) => [r.line, r.code])).toEqual([
      [1, 'MODIFIED'],
      [2, 'REVERSED'],
      [3, 'MODIFIED'],
      [4, 'ACTION_NOT_FOUND'],
    ]);
    const action = async (id: string) =>
      (await (await fetch(`${server.baseUrl}/api/v1/transactions?actionId=${id}`, { headers: auth })).json()) as any;
    expect(await action('1000.2000.3004')).toMatchObject([
      { id: 1004, eventTypeId: 12345, merchantRevenue: '180.00', affiliatePayout: '45.00', state: 'PENDING' },
    ]);
    expect(await action('1000.2000.3003')).toMatchObject([{ id: 1003, state: 'REVERSED', merchantRevenue: '0.00' }]);
  });
});
