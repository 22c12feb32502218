import crypto from 'node:crypto';
import type { BatchRow, NewBatch } from '../../src/store/batch-store';
import { testEngines } from '../support/databases';
import { useTestServer } from '../support/test-server';
import { uploadRaw } from './batch-helpers';

const HEADER = ['Password', 'TransactionID', 'AP', 'MP', 'A', 'REASON'];

/** A batch to store directly, with its own content hash. */
function newBatch(records: number): NewBatch {
  return {
    filename: 'direct.txt',
    contentSha256: crypto.randomBytes(32).toString('hex'),
    format: 'tab',
    encoding: 'utf-8',
    state: 'queued',
    records,
    duplicateOf: null,
    forced: false,
    clientIp: '127.0.0.1',
    createdAt: Date.now(),
    finishedAt: null,
  };
}

function rowsFrom(first: number, count: number): BatchRow[] {
  return Array.from({ length: count }, (_, i) => ({
    rowNumber: first + i,
    parameters: [
      { name: 'Password', value: 'pw' },
      { name: 'TransactionID', value: String(first + i) },
    ],
  }));
}

describe.each(testEngines())('a large upload, read and stored in slices, on %s', (engine) => {
  const context = useTestServer(engine);

  const storedRows = (batchId: number) =>
    context.server.services.db
      .knex('batch_rows')
      .where({ batch_id: batchId })
      .orderBy('file_row')
      .select('file_row', 'parameters', 'password');

  it('stores every row of a 2,345-row upload, a multi-line quoted REASON and blank rows included', async () => {
    const lines = [HEADER.join('\t')];
    for (let row = 1; row <= 2345; row++) {
      if (row === 1000) lines.push('');
      else if (row === 1500) lines.push(`pw\t${row}\t1.00\t2.00\tyes\t"refund,\r\nsee ticket ""${row}"""`);
      else lines.push(`pw\t${row}\t1.00\t2.00\tyes\tbulk`);
    }
    const file = `${lines.join('\r\n')}\r\n`;

    const upload = await uploadRaw(context.server.baseUrl, file, { filename: 'large.txt' });

    expect(upload.status).toBe(202);
    expect(upload.body).toMatchObject({ state: 'queued', records: 2344, format: 'tab', encoding: 'utf-8' });
    const rows = await storedRows(upload.body.id);
    const fileRows = Array.from({ length: 2345 }, (_, i) => i + 1).filter((row) => row !== 1000);
    expect(rows.map((r) => Number(r.file_row))).toEqual(fileRows);
    const quoted = rows.find((r) => Number(r.file_row) === 1500);
    expect(JSON.parse(String(quoted?.parameters))).toEqual([
      { name: 'TransactionID', value: '1500' },
      { name: 'AP', value: '1.00' },
      { name: 'MP', value: '2.00' },
      { name: 'A', value: 'yes' },
      { name: 'REASON', value: 'refund,\r\nsee ticket "1500"' },
    ]);
    expect(quoted?.password).toBe('pw');
  });

  it('stores nothing when reading the rows fails part-way, and leaves the content free to claim', async () => {
    const { batches } = context.server.services.stores;
    const batch = newBatch(2000);
    async function* failingAfterOneSlice(): AsyncGenerator<BatchRow[]> {
      yield rowsFrom(1, 1000);
      throw new Error('the file could not be read further');
    }

    await expect(batches.create(batch, failingAfterOneSlice())).rejects.toThrow('the file could not be read further');

    const knex = context.server.services.db.knex;
    expect(await knex('batches').where({ content_sha256: batch.contentSha256 }).select('id')).toEqual([]);
    const again = await batches.create(batch, [rowsFrom(1, 1000), rowsFrom(1001, 1000)]);
    expect('batch' in again && again.batch).toMatchObject({ records: 2000, duplicateOf: null });
    expect(await storedRows('batch' in again ? again.batch.id : 0)).toHaveLength(2000);
  });
});
