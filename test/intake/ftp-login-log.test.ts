import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { hashPassword } from '../../src/auth/password-verifier';
import { FtpIntake } from '../../src/intake/ftp-intake';
import { IntakeDoors } from '../../src/intake/intake-doors';
import { FailureBrake } from '../../src/modification/failure-brake';
import { IntakeStore } from '../../src/store/intake-store';
import { SqlRunner } from '../../src/store/sql';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { ftpClient } from './intake-helpers';

// ftp-srv logs every refused log-in as an error with its stack: a guessed password must not read as a fault
// of the service. The refusal is logged at info with its reason; the client hears 530 as before.

describe.each(testEngines())('FTP log-in refusals in the log, on %s', (engine) => {
  let database: TestDatabase;
  let dir: string;
  let intake: FtpIntake;
  let port = 0;
  const lines: Array<{ level: number; msg?: string; reason?: string; err?: unknown }> = [];

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const { knex, engine: kind } = database.db;
    const store = new IntakeStore(knex, kind, new SqlRunner(knex, kind));
    await store.saveSettings(7, { upload: true, email: false, pull: null }, Date.now());
    await store.createUser({ username: 'brand-7', passwordHash: await hashPassword('right one', 4), campaignId: 7 }, 1);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-ftp-log-'));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const doors = new IntakeDoors({
      store,
      batches: { upload: async () => ({ ok: true, batch: { id: 1 } as never }) },
      brake: new FailureBrake(null),
      bcryptCost: 4,
    });
    const options = { host: '127.0.0.1', port: 0, intakeDir: dir, maxFileBytes: 1_000_000, tls: null };
    intake = new FtpIntake(
      doors,
      { ...options, allowPlain: true, passivePorts: null, publicHost: null },
      pino({ level: 'trace' }, sink),
    );
    port = await intake.start();
  });
  afterAll(async () => {
    await intake.close();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs a wrong password at info with its reason, never as an error, and still answers 530', async () => {
    lines.length = 0;
    const steps = await ftpClient({ port, user: 'brand-7', password: 'a guess', secure: false, actions: [] });
    expect(steps).toEqual([{ op: 'login', ok: false, code: 530, message: '530 wrong user name or password' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'FTP log-in refused', reason: 'wrong user name or password' }),
    );
  });

  it('logs an unknown user the same way, and lets the right password in', async () => {
    lines.length = 0;
    await ftpClient({ port, user: 'nobody', password: 'x', secure: false, actions: [] });
    const right = await ftpClient({ port, user: 'brand-7', password: 'right one', secure: false, actions: [] });
    expect(right).toEqual([{ op: 'login', ok: true }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.filter((line) => line.msg === 'FTP log-in refused')).toHaveLength(1);
  });
});
