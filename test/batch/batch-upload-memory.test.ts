import fs from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { startNodeFlags } from '../../bench/engine-run';
import { MAX_FIELDS_PER_ROW, MAX_ROW_CHARACTERS } from '../../src/batch/csv-records';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { ensureBuilt, spawnServer, type SpawnedServer } from '../support/spawn-server';
import { TEST_ADMIN_TOKEN } from '../support/test-server';

const ROOT = `${__dirname}/../..`;
const MB = 1024 * 1024;

/** The server's peak resident memory so far (Linux: VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024);
}

/**
 * The production build, started as `npm start` starts it (its node flags: a 256 MB old generation),
 * takes hostile uploads up to BATCH_MAX_FILE_MB: refused or stored, never a crash.
 */
describe('uploads against the built server with npm start’s heap limit', () => {
  let database: TestDatabase;
  let server: SpawnedServer;
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase('sqlite');
    const filename = database.config.client === 'sqlite' ? database.config.filename : '';
    server = await spawnServer({
      DATABASE_URL: `sqlite:${filename}`,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      BATCH_WORKER: 'false',
      POSTBACK_WORKER: 'false',
      ROLLUP_SCHEDULE: 'off',
      NIGHTLY_SCHEDULE: 'off',
      // The flags npm start gives node, read from package.json so this test follows them.
      NODE_OPTIONS: startNodeFlags(ROOT).join(' '),
    });
  }, 120_000);
  afterAll(async () => {
    server?.kill('SIGTERM');
    await server?.exited;
    await database?.drop();
  });

  // A new connection for each upload: building a 60 MB file on a loaded machine can take longer than the
  // server keeps an idle keep-alive connection (5 s), and a reused one closing under the body is EPIPE.
  const freshConnections = new Agent({ pipelining: 0 });
  afterAll(() => freshConnections.close());
  const upload = async (name: string, bytes: Buffer) => {
    const response = await undiciFetch(`${server.baseUrl}/api/v1/batches?filename=${name}`, {
      dispatcher: freshConnections,
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: bytes,
    });
    return { status: response.status, body: await response.json() };
  };
  const healthy = async () => (await fetch(`${server.baseUrl}/healthz`)).status;

  it('runs with the start script’s heap limit', async () => {
    expect(startNodeFlags(ROOT)).toEqual(expect.arrayContaining(['--max-old-space-size=256']));
    expect(await healthy()).toBe(200);
  });

  it('refuses a CSV whose one row holds 20 million commas with unreadable_file, and stays up', async () => {
    const refusal = (reason: string) => ({
      status: 400,
      body: { error: { code: 'unreadable_file', message: `the file cannot be read: ${reason}` } },
    });
    // In the header line (this one took the server past its heap limit before the limits)…
    const header = Buffer.concat([
      Buffer.from('Password,TransactionID,AP'),
      Buffer.alloc(20_000_000, ','),
      Buffer.from('\npw,1,2.00\n'),
    ]);
    expect(await upload('header.csv', header)).toEqual(
      refusal(
        `the header line is longer than ${(MAX_ROW_CHARACTERS + MAX_FIELDS_PER_ROW).toLocaleString('en-US')} characters`,
      ),
    );
    expect(await healthy()).toBe(200);
    // …and in a data row (stored, after 19 s of parsing, before the limits).
    const row = Buffer.concat([
      Buffer.from('Password,TransactionID,AP\npw,1,2.00'),
      Buffer.alloc(20_000_000, ','),
      Buffer.from('\n'),
    ]);
    expect(await upload('row.csv', row)).toEqual(refusal('row 1 has more than 16,384 fields'));
    expect(await healthy()).toBe(200);
    console.info(`peak RSS after the 20 MB rows of commas: ${peakRssMb(server.pid)} MB`);
  }, 120_000);

  it('refuses a 60 MB row of tabs and a 60 MB single field the same way', async () => {
    const tabs = Buffer.concat([
      Buffer.from('Password\tTransactionID\tAP\n'),
      Buffer.alloc(60 * MB, '\t'),
      Buffer.from('\n'),
    ]);
    expect((await upload('tabs.txt', tabs)).body).toEqual({
      error: { code: 'unreadable_file', message: 'the file cannot be read: row 1 has more than 16,384 fields' },
    });
    const field = Buffer.concat([
      Buffer.from('Password,TransactionID,AP\npw,1,"'),
      Buffer.alloc(60 * MB, 'x'),
      Buffer.from('"\n'),
    ]);
    expect((await upload('field.csv', field)).body).toEqual({
      error: {
        code: 'unreadable_file',
        message: `the file cannot be read: row 1 is longer than ${MAX_ROW_CHARACTERS.toLocaleString('en-US')} characters`,
      },
    });
    expect(await healthy()).toBe(200);
    console.info(`peak RSS after the 60 MB rows: ${peakRssMb(server.pid)} MB`);
  }, 120_000);

  it('stores a 60 MB file of rows at the field limit (Excel’s widest sheet) and stays up', async () => {
    const row = Buffer.from(`pw,1,2.00${','.repeat(16_384 - 3)}\n`);
    const rows = Math.floor((60 * MB) / row.length);
    const file = Buffer.concat([
      Buffer.from('Password,TransactionID,AP\n'),
      ...Array.from({ length: rows }, () => row),
    ]);
    const answer = await upload('wide.csv', file);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ records: rows, state: 'queued' });
    expect(await healthy()).toBe(200);
    console.info(
      `peak RSS after storing ${rows} rows of 16,384 fields (${Math.round(file.length / MB)} MB): ${peakRssMb(server.pid)} MB`,
    );
  }, 180_000);
  it('stores a 60 MB file of rows with 60,000-character values (a thousand rows to a slice) and stays up', async () => {
    const row = Buffer.from(`pw\t1\t${'r'.repeat(60_000)}\n`);
    const rows = Math.floor((60 * MB) / row.length);
    const file = Buffer.concat([
      Buffer.from('Password\tTransactionID\tREASON\n'),
      ...Array.from({ length: rows }, () => row),
    ]);
    const answer = await upload('long.txt', file);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ records: rows, state: 'queued' });
    expect(await healthy()).toBe(200);
    console.info(
      `peak RSS after storing ${rows} rows of 60,000 characters (${Math.round(file.length / MB)} MB): ${peakRssMb(server.pid)} MB`,
    );
  }, 180_000);
});
