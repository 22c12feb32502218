import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseConfig } from '../../src/config';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startReceiver } from '../support/receiver';
import { startTestServer, TEST_ADMIN_TOKEN } from '../support/test-server';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'txedit.js');
// A directory without a .env, so the binary sees only the environment each test gives it.
const CWD = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-bin-'));

jest.setTimeout(240_000);

/** Runs the built `txedit` binary to completion. */
function txedit(
  argv: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: CWD, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const databaseUrl = (config: DatabaseConfig) => (config.client === 'sqlite' ? `sqlite:${config.filename}` : config.url);

/** Polls until `check` holds (bounded): waiting for another process, not a speed assertion. */
async function eventually<T>(check: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(() => {
  // The binary is the compiled CLI: build it as `npm run build` does. Other engineers' work in progress
  // may fail type-checking; tsc still writes dist, and the CLI must exist afterwards.
  spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
    { cwd: ROOT, stdio: 'ignore' },
  );
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')))
    throw new Error('the build did not produce dist/src/cli/main.js');
});
afterAll(() => fs.rmSync(CWD, { recursive: true, force: true }));

it('prints the whole command tree with `txedit --help` and exits 0', async () => {
  const help = await txedit(['--help'], {});
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: txedit \[options\] \[command\]/);
  expect(help.stdout).toContain('  txedit campaigns set-password <cid>');
  expect(help.stdout).toContain('  txedit worker');
});

describe.each(testEngines())('the txedit binary on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('sets a campaign password read from piped stdin and reports a missing transaction in one line', async () => {
    const server = await startTestServer(database.db);
    try {
      const { campaign, transaction } = await buildScene(server.services);
      const env = { ADMIN_TOKEN: TEST_ADMIN_TOKEN, TXEDIT_URL: server.baseUrl };
      const set = await txedit(['campaigns', 'set-password', String(campaign.id)], env, 'piped-Password-1\n');
      expect(set).toEqual({
        code: 0,
        stdout: `password set for campaign ${campaign.id}; it is not shown again\n`,
        stderr: '',
      });
      expect(
        (
          await editByGet(server.baseUrl, {
            Password: 'piped-Password-1',
            TransactionID: String(transaction.id),
            A: 'no',
          })
        ).answer.succeeded,
      ).toBe('True');
      const missing = await txedit(['transactions', 'show', '999999999', '--json'], env);
      expect(missing).toEqual({ code: 1, stdout: '', stderr: 'txedit: transaction 999999999 not found (HTTP 404)\n' });
    } finally {
      await server.close();
    }
  });

  it('applies migrations to a fresh DATABASE_URL, then finds nothing to do', async () => {
    const fresh = await createTestDatabase(engine, { migrate: false });
    try {
      const env = { DATABASE_URL: databaseUrl(fresh.config) };
      const first = await txedit(['migrate', '--json'], env);
      expect(first.code).toBe(0);
      const applied = (JSON.parse(first.stdout) as { applied: string[] }).applied;
      expect(applied[0]).toBe('20261125000000_initial_schema');
      expect(applied).toContain('20261125030000_console');
      expect(await fresh.db.knex.schema.hasTable('console_audit')).toBe(true);
      const second = await txedit(['migrate'], env);
      expect(second).toEqual({ code: 0, stdout: expect.stringMatching(/ is up to date\n$/), stderr: '' });
    } finally {
      await fresh.drop();
    }
  });

  it('runs `txedit worker` until SIGTERM, delivering a queued postback meanwhile', async () => {
    const receiver = await startReceiver();
    const server = await startTestServer(database.db);
    try {
      const affiliate = await buildAffiliate(server.services, { postbackUrl: `${receiver.url}/pb?tid=[=_TransID=]` });
      const campaign = await buildCampaign(server.services);
      const transaction = await buildTransaction(server.services, campaign, affiliate);
      await rollUpToNow(server.services);
      await editByGet(server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        A: 'no',
        executeaffiliatepixel: 'yes',
      });

      const worker = spawn(process.execPath, [BIN, 'worker', '--no-batches'], {
        cwd: CWD,
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: databaseUrl(database.config),
          POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true',
          LOG_LEVEL: 'info',
        },
      });
      let output = '';
      worker.stdout.on('data', (chunk) => (output += String(chunk)));
      worker.stderr.on('data', (chunk) => (output += String(chunk)));
      const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));

      await eventually(async () => receiver.received.find((r) => r.url === `/pb?tid=${transaction.id}`));
      const delivered = await eventually(async () => {
        const [row] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
        return row?.status === 'delivered' ? row : undefined;
      });
      expect(delivered.attempts).toBe(1);
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"txedit worker started"');
      expect(output).toContain('"msg":"txedit worker stopped"');
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});
