import { SqlRunner } from '../../src/store/sql';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { BatchUpload, UploadResult } from '../../src/batch/batch-service';
import { IntakeDoors } from '../../src/intake/intake-doors';
import type { PullConnection } from '../../src/intake/pull-clients';
import { createPullRun } from '../../src/intake/pull-run';
import { SecretBox } from '../../src/intake/secret-box';
import { SmtpIntake } from '../../src/intake/smtp-intake';
import { createLogger } from '../../src/logger';
import { FailureBrake } from '../../src/modification/failure-brake';
import { IntakeStore } from '../../src/store/intake-store';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';

const logger = createLogger('silent');

/** BatchService.upload as a database failing once would make it: the first call throws. */
function failingOnce() {
  const uploads: BatchUpload[] = [];
  let failed = false;
  return {
    uploads,
    upload: async (upload: BatchUpload): Promise<UploadResult> => {
      if (!failed) {
        failed = true;
        throw new Error('connection lost');
      }
      uploads.push(upload);
      return { ok: true, batch: { id: uploads.length } as never };
    },
  };
}

describe.each(testEngines())('a file whose taking failed is taken on the next try, on %s', (engine) => {
  let database: TestDatabase;
  let store: IntakeStore;
  let dir: string;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    store = new IntakeStore(database.db.knex, database.db.engine, new SqlRunner(database.db.knex, database.db.engine));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-claims-'));
  });
  afterAll(async () => {
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pull: the claim of a file is given up when its batch cannot be stored', async () => {
    const secrets = new SecretBox(path.join(dir, 'key'));
    const batches = failingOnce();
    const brandFile = { name: 'Batch_Mods.csv', size: 20, mtime: 1_764_000_000_000 };
    const connection: PullConnection = {
      list: async () => [brandFile],
      read: async () => Buffer.from('ActionId,Amount\n1,2\n'),
      close: () => undefined,
    };
    const run = createPullRun({
      store,
      batches,
      secrets,
      logger,
      options: { allowPrivateNetworks: true, timeoutMs: 30_000, maxFileBytes: 1_000_000, verifyTls: true },
      open: async () => connection,
    });
    const pull = {
      protocol: 'ftp' as const,
      host: '127.0.0.1',
      port: 21,
      directory: '/',
      username: 'network',
      passwordSealed: secrets.seal('pw'),
      hostKeySha256: null,
    };
    await store.saveSettings(41, { upload: false, email: false, pull }, Date.now());
    const settings = async () => (await store.settings(41))!;

    const first = await run.run(await settings());
    expect(first.error).toBe('connection lost');
    const second = await run.run(await settings());
    expect(second).toMatchObject({ error: null, taken: [{ name: 'Batch_Mods.csv', batchId: 1, error: null }] });
    expect((await run.run(await settings())).taken).toEqual([]);
    expect(batches.uploads).toHaveLength(1);
  });

  it('pull: past its time the brand’s connection is closed and no file is taken behind the error', async () => {
    const secrets = new SecretBox(path.join(dir, 'key'));
    const uploads: BatchUpload[] = [];
    const batches = {
      upload: async (upload: BatchUpload): Promise<UploadResult> => {
        uploads.push(upload);
        return { ok: true, batch: { id: uploads.length } as never };
      },
    };
    let reads = 0;
    let release: (files: Array<{ name: string; size: number; mtime: number }>) => void = () => undefined;
    let closed = false;
    const connection: PullConnection = {
      // The brand's server answers the listing only after the pull's time ran out.
      list: () => new Promise((resolve) => (release = resolve)),
      read: async () => {
        reads += 1;
        return Buffer.from('ActionId,Amount\n1,2\n');
      },
      close: () => {
        closed = true;
      },
    };
    const run = createPullRun({
      store,
      batches,
      secrets,
      logger,
      options: { allowPrivateNetworks: true, timeoutMs: 50, maxFileBytes: 1_000_000, verifyTls: true },
      open: async () => connection,
    });
    const pull = {
      protocol: 'ftp' as const,
      host: '127.0.0.1',
      port: 21,
      directory: '/',
      username: 'network',
      passwordSealed: secrets.seal('pw'),
      hostKeySha256: null,
    };
    await store.saveSettings(43, { upload: false, email: false, pull }, Date.now());
    const result = await run.run((await store.settings(43))!);
    expect(result.error).toMatch(/took longer than/);
    expect(closed).toBe(true);
    release([{ name: 'late.csv', size: 20, mtime: 1 }]);
    // Time for the late listing to be acted on, were it to be.
    for (let i = 0; i < 20 && reads === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(reads).toBe(0);
    expect(await store.pulledBefore({ campaignId: 43, name: 'late.csv', size: 20, mtime: 1 })).toBe(false);
    expect(uploads).toEqual([]);
  });

  it('e-mail: the sender hears 451 and its retry of the same Message-ID is taken', async () => {
    const batches = failingOnce();
    const intake = new IntakeDoors({ store, batches, brake: new FailureBrake(null), bcryptCost: 4 });
    await store.saveSettings(42, { upload: false, email: true, pull: null }, Date.now());
    await store.replaceAddress(42, 'retry@files.example.test', Date.now());
    const smtp = new SmtpIntake(
      intake,
      { host: '127.0.0.1', port: 0, domain: 'files.example.test', maxMessageBytes: 1_000_000, tls: null },
      logger,
    );
    const port = await smtp.start();
    try {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
      const message = {
        from: 'ops@brand.example',
        to: 'retry@files.example.test',
        messageId: '<retry.1@brand.example>',
        attachments: [{ filename: 'Batch_Mods.csv', content: 'ActionId,Amount\n1,2\n' }],
      };
      const refused = await transport
        .sendMail(message)
        .catch((error: { responseCode?: number; response?: string }) => error);
      expect(refused).toMatchObject({ responseCode: 451 });
      expect(String((refused as { response?: string }).response)).not.toMatch(/connection lost/);
      await transport.sendMail(message);
      await transport.sendMail(message);
      expect(batches.uploads.map((upload) => [upload.channel, upload.campaignId, upload.filename])).toEqual([
        ['email', 42, 'Batch_Mods.csv'],
      ]);
    } finally {
      await smtp.close();
    }
  });
});
