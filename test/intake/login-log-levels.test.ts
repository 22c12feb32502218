import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { hashPassword } from '../../src/auth/password-verifier';
import { FtpIntake } from '../../src/intake/ftp-intake';
import { SftpIntake } from '../../src/intake/sftp-intake';
import { IntakeDoors } from '../../src/intake/intake-doors';
import { FailureBrake } from '../../src/modification/failure-brake';
import { IntakeStore } from '../../src/store/intake-store';
import { SqlRunner } from '../../src/store/sql';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { ftpClient, sftpClient } from './intake-helpers';

// ftp-srv logs every refused log-in as an error with its stack: a guessed password must not read as a fault
// of the service. The refusal is logged at info with its reason (FTP and SFTP alike); the client hears 530 as
// before. A log-in that could not be checked (the database gone) is ours: an error.

describe.each(testEngines())('FTP and SFTP log-in refusals in the log, on %s', (engine) => {
  let database: TestDatabase;
  let dir: string;
  let intake: FtpIntake;
  let sftp: SftpIntake;
  let port = 0;
  let sftpPort = 0;
  let failing = false;
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
    // The store as a database gone away would make it, once `failing` is set.
    const flaky = new Proxy(store, {
      get: (target, key) =>
        key === 'user' && failing
          ? async () => {
              throw new Error('connection lost');
            }
          : Reflect.get(target, key, target),
    });
    const doors = new IntakeDoors({
      store: flaky,
      batches: { upload: async () => ({ ok: true, batch: { id: 1 } as never }) },
      brake: new FailureBrake(null),
      bcryptCost: 4,
    });
    const options = { host: '127.0.0.1', port: 0, intakeDir: dir, maxFileBytes: 1_000_000, tls: null };
    const logger = pino({ level: 'trace' }, sink);
    intake = new FtpIntake(doors, { ...options, allowPlain: true, passivePorts: null, publicHost: null }, logger);
    port = await intake.start();
    sftp = new SftpIntake(doors, { ...options, hostKeyFile: null }, logger);
    sftpPort = await sftp.start();
  });
  afterAll(async () => {
    await intake.close();
    await sftp.close();
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

  it('logs a client that resets its connection below warn (ftp-srv would log it as an error)', async () => {
    lines.length = 0;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('data', () => {
        socket.resetAndDestroy();
        resolve();
      });
      socket.once('error', reject);
    });
    const reset = () => lines.find((line) => line.msg === 'FTP intake client error');
    for (let i = 0; i < 100 && !reset(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reset()).toMatchObject({ level: expect.any(Number) });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('logs an SFTP refusal at info too, and a log-in that could not be checked as an error', async () => {
    lines.length = 0;
    const wrong = await sftpClient({ port: sftpPort, user: 'brand-7', password: 'a guess', actions: [] });
    expect(wrong[0]).toMatchObject({ op: 'login', ok: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'SFTP log-in refused', reason: 'wrong user name or password' }),
    );
    failing = true;
    try {
      const lost = await sftpClient({ port: sftpPort, user: 'brand-7', password: 'right one', actions: [] });
      expect(lost[0]).toMatchObject({ op: 'login', ok: false });
      const ftpLost = await ftpClient({ port, user: 'brand-7', password: 'right one', secure: false, actions: [] });
      expect(ftpLost[0]).toMatchObject({ op: 'login', ok: false, code: 530 });
    } finally {
      failing = false;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual(
      expect.arrayContaining(['SFTP log-in could not be checked']),
    );
    expect(lines.filter((line) => line.level >= 50)).toHaveLength(2);
  });
});
