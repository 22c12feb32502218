import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServices } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { closeDatabase, Database, DatabaseOptions, openDatabase } from '../../src/store/database';
import type { CheckpointWorkerOptions } from '../../src/store/sqlite-checkpoints';

/** Polls until `ready()` holds; the test's own timeout bounds the wait. */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await sleep(20);
}

/** The size of a file, 0 when it is not there. */
function bytes(file: string): number {
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

/**
 * The frames the WAL holds now, read from the file as SQLite does: the leading frames that carry the header's
 * salts, up to the last commit. Not the file's size: a writer starts a wholly copied WAL over from its first
 * frame without shrinking the file, so the size can count frames of an earlier round.
 */
function walFrames(file: string, pageSize: number): number {
  if (bytes(file) < 32) return 0;
  const wal = fs.readFileSync(file);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let committed = 0;
  for (let frame = 0, at = 32; at + 24 + pageSize <= wal.length; frame++, at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    if (wal.readUInt32BE(at + 4) !== 0) committed = frame + 1;
  }
  return committed;
}

// SQLite only: MySQL has no WAL of ours to checkpoint.
describe('SQLite checkpoints in a worker thread', () => {
  let dir: string;
  let filename: string;
  let wal: string;
  const opened: Database[] = [];
  const errors: string[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-ckpt-'));
    filename = path.join(dir, 'test.sqlite');
    wal = `${filename}-wal`;
    errors.length = 0;
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await closeDatabase(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const open = (worker: DatabaseOptions['checkpointWorker']) => {
    const db = openDatabase(
      { client: 'sqlite', filename },
      { checkpointWorker: worker, log: { warn: () => undefined, error: (m) => errors.push(m) } },
    );
    opened.push(db);
    return db;
  };
  const autocheckpoint = async (db: Database) =>
    ((await db.knex.raw('PRAGMA wal_autocheckpoint')) as Array<{ wal_autocheckpoint: number }>)[0].wal_autocheckpoint;
  /** `count` transactions of one 2 KB row each: a few WAL frames apiece. */
  const write = async (db: Database, count: number) => {
    for (let i = 0; i < count; i++) await db.knex.transaction((trx) => trx('notes').insert({ body: 'x'.repeat(2000) }));
  };
  const fast: CheckpointWorkerOptions = { intervalMs: 10 };

  it('copies the WAL into the file, so the next writes start the WAL over instead of growing it', async () => {
    const db = open(fast);
    await db.knex.schema.createTable('notes', (table) => {
      table.increments('id');
      table.text('body');
    });
    // The main connection leaves checkpoints to the worker.
    expect(await autocheckpoint(db)).toBe(0);
    await write(db, 40);
    const first = bytes(wal);
    // Every frame the WAL holds now has been copied into the file (by a checkpoint that saw all of them, not
    // one from the middle of the writes).
    const pageSize = ((await db.knex.raw('PRAGMA page_size')) as Array<{ page_size: number }>)[0].page_size;
    const frames = walFrames(wal, pageSize);
    expect(frames).toBeGreaterThan(0);
    await until(() => {
      const latest = db.checkpoints?.status().latest;
      return latest !== null && latest !== undefined && latest.log === frames && latest.checkpointed === latest.log;
    });
    await write(db, 40);
    // The same writes again: had nobody checkpointed (wal_autocheckpoint is 0), the WAL would have doubled.
    expect(bytes(wal)).toBeLessThanOrEqual(first);
    expect(db.checkpoints?.status()).toMatchObject({ running: true, fellBack: false, restarts: 0, truncations: 0 });
    expect(errors).toEqual([]);
  });

  it('starts a WAL past the hard cap over with a RESTART checkpoint, and truncates it once writes pause', async () => {
    const db = open({ ...fast, hardCapBytes: 64 * 1024, trimBytes: 16 * 1024 });
    await db.knex.schema.createTable('notes', (table) => {
      table.increments('id');
      table.text('body');
    });
    // Writes never pausing for the worker: 400 transactions of a few frames each in one go.
    await write(db, 400);
    await until(() => (db.checkpoints?.status().restarts ?? 0) > 0);
    // A restart leaves the file at its size: the worker must not take it for a WAL still past the cap.
    await until(() => (db.checkpoints?.status().truncations ?? 0) > 0 && bytes(wal) === 0);
    expect(await db.knex('notes').count({ n: '*' })).toEqual([{ n: 400 }]);
  });

  it('truncates a WAL wholly copied once the writes pause, the rows kept', async () => {
    const db = open({ ...fast, trimBytes: 16 * 1024 });
    await db.knex.schema.createTable('notes', (table) => {
      table.increments('id');
      table.text('body');
    });
    await write(db, 40);
    // A WAL the writer starts over keeps its size; only a TRUNCATE brings the file back to nothing.
    await until(() => (db.checkpoints?.status().truncations ?? 0) > 0 && bytes(wal) === 0);
    expect(await db.knex('notes').count({ n: '*' })).toEqual([{ n: 40 }]);
  });

  it('stops with the database: no thread left, the WAL folded into the file, the file free for others', async () => {
    const db = open(fast);
    await db.knex.schema.createTable('notes', (table) => {
      table.increments('id');
      table.text('body');
    });
    await write(db, 10);
    expect(db.checkpoints?.status().running).toBe(true);
    opened.splice(opened.indexOf(db), 1);
    await closeDatabase(db);
    expect(db.checkpoints?.status().running).toBe(false);
    // The worker's connection closed last and checkpointed: no WAL is left behind.
    expect(fs.existsSync(wal)).toBe(false);
    const other = openDatabase({ client: 'sqlite', filename });
    try {
      // The write lock at once, with no busy wait, and every row there.
      await other.knex.raw('PRAGMA busy_timeout = 0');
      await other.knex.transaction((trx) => trx('notes').insert({ body: 'after' }));
      expect(await other.knex('notes').count({ n: '*' })).toEqual([{ n: 11 }]);
    } finally {
      await other.knex.destroy();
    }
  });

  it('is stopped by the services’ lifecycle', async () => {
    const db = open(fast);
    await db.knex.raw('select 1');
    opened.splice(opened.indexOf(db), 1);
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${filename}` });
    const services = createServices(config, db, createLogger(config.logLevel));
    expect(db.checkpoints?.status().running).toBe(true);
    await services.lifecycle.stop();
    expect(db.checkpoints?.status().running).toBe(false);
  });

  it('gives the checkpoints back to the connection when the worker cannot start', async () => {
    const db = open({ ...fast, script: path.join(dir, 'no-such-worker.js') });
    await db.knex.raw('select 1');
    await until(() => db.checkpoints?.status().fellBack === true);
    expect(await autocheckpoint(db)).toBe(1000);
    expect(errors).toEqual([expect.stringMatching(/^SQLite checkpoint worker failed: .*wal_autocheckpoint=1000/)]);
    // A connection made after the failure (the pool replacing one) starts with SQLite's own checkpoints too.
    const pragmas: string[] = [];
    db.checkpoints?.adopt({ open: true, pragma: (sql) => pragmas.push(sql) });
    expect(pragmas).toEqual(['wal_autocheckpoint = 1000']);
  });

  it('has no worker without SQLITE_CHECKPOINT_WORKER, nor for an in-memory database', async () => {
    const off = open(false);
    await off.knex.raw('select 1');
    expect(off.checkpoints).toBeUndefined();
    expect(await autocheckpoint(off)).toBe(1000);
    const memory = openDatabase({ client: 'sqlite', filename: ':memory:' }, { checkpointWorker: true });
    opened.push(memory);
    await memory.knex.raw('select 1');
    expect(memory.checkpoints).toBeUndefined();
  });
});
