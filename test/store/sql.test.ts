import type { Knex } from 'knex';
import { openDatabase } from '../../src/store/database';
import { classifyDatabaseError } from '../../src/store/database-errors';
import { inSavepoint, readStatement, Sql, SqlRunner, writeStatement } from '../../src/store/sql';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

const INSERT = 'insert into sql_scratch (id, v) values (?, ?)';
const INSERT_VALUE = 'insert into sql_scratch (v) values (?)';
const UPDATE_BY_VALUE = 'update sql_scratch set v = ? where v = ?';
const UPDATE_BY_ID = 'update sql_scratch set v = ? where id = ?';
const LOCK_ROW = 'select v from sql_scratch where id = ? for update';

/** The scratch table's rows as plain objects, read through plain knex. */
async function stored(handle: Knex): Promise<Array<{ id: number; v: string }>> {
  const rows = await handle('sql_scratch').orderBy('id').select('id', 'v');
  return rows.map((row: { id: number; v: string }) => ({ id: Number(row.id), v: row.v }));
}

/** Connections a knex pool has handed out and not had back. */
function connectionsInUse(handle: Knex): number {
  return (handle.client.pool as unknown as { numUsed(): number }).numUsed();
}

/** A promise the test resolves when it chooses: a gate between two units of work. */
function gate<T = void>(): { opened: Promise<T>; open(value: T): void } {
  let open: (value: T) => void = () => undefined;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { opened, open };
}

/** The slice of a raw better-sqlite3 connection used here: synchronous, so usable inside a callback. */
interface SqliteConnection {
  prepare(sql: string): { get(...values: unknown[]): { v: string } | undefined; run(...values: unknown[]): unknown };
  pragma(sql: string): unknown;
}

describe.each(testEngines())('SqlRunner on %s', (engine) => {
  const mysqlOnly = engine === 'mysql' ? it : it.skip;
  const sqliteOnly = engine === 'sqlite' ? it : it.skip;
  const knexWarnings: string[] = [];
  let database: TestDatabase;
  let knex: Knex;
  let runner: SqlRunner;
  /** A pool of one connection (SQLite's own pool is one already), so a leak or a left-open transaction shows. */
  let single: Knex;
  let singleRunner: SqlRunner;
  /** SQLite: a connection of a second handle, read synchronously; MariaDB: reads go through `knex`'s pool. */
  let sqliteOther: Knex | undefined;
  let sqliteReader: SqliteConnection | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    knex = database.db.knex;
    await knex.schema.createTable('sql_scratch', (table) => {
      table.increments('id');
      table.string('v', 50);
    });
    runner = new SqlRunner(knex, engine);
    const log = {
      warn: (message: string) => knexWarnings.push(message),
      error: (message: string) => knexWarnings.push(message),
    };
    single = engine === 'mysql' ? openDatabase(database.config, { poolMax: 1, log }).knex : knex;
    singleRunner = new SqlRunner(single, engine);
    if (engine === 'sqlite') {
      sqliteOther = openDatabase(database.config).knex;
      sqliteReader = (await sqliteOther.client.acquireConnection()) as SqliteConnection;
    }
  });

  afterAll(async () => {
    if (sqliteOther) {
      if (sqliteReader) sqliteOther.client.releaseConnection(sqliteReader);
      await sqliteOther.destroy();
    }
    if (single && single !== knex) await single.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await knex('sql_scratch').delete();
  });

  /**
   * The value of row `id` as another connection sees it, read at the moment of the call: synchronously on
   * SQLite (WAL: only committed rows), and by a statement sent at once on another pooled connection on MariaDB.
   */
  function readElsewhere(id: number): Promise<string | undefined> {
    if (sqliteReader) return Promise.resolve(sqliteReader.prepare('select v from sql_scratch where id = ?').get(id)?.v);
    return knex('sql_scratch')
      .where({ id })
      .first('v')
      .then((row?: { v: string }) => row?.v);
  }

  describe('transaction', () => {
    it('commits its writes and reports insert ids and affected rows', async () => {
      const report = await runner.transaction(async (sql) => {
        const inserts = [
          await sql.run(INSERT_VALUE, ['a']),
          await sql.run(INSERT_VALUE, ['a']),
          await sql.run(INSERT_VALUE, ['c']),
        ];
        const updatedTwo = await sql.run(UPDATE_BY_VALUE, ['b', 'a']);
        const updatedNone = await sql.run(UPDATE_BY_VALUE, ['z', 'missing']);
        const readBack = await sql.rows<{ v: string }>('select v from sql_scratch where id = ?', [inserts[2].insertId]);
        return { inserts, updatedTwo, updatedNone, readBack };
      });
      const ids = report.inserts.map((insert) => insert.insertId);
      expect(report.inserts.map((insert) => insert.affectedRows)).toEqual([1, 1, 1]);
      expect(ids[0]).toBeGreaterThan(0);
      expect(ids).toEqual([ids[0], ids[0] + 1, ids[0] + 2]);
      expect(report.updatedTwo.affectedRows).toBe(2);
      expect(report.updatedNone.affectedRows).toBe(0);
      expect(report.readBack).toEqual([{ v: 'c' }]);
      expect(await stored(knex)).toEqual([
        { id: ids[0], v: 'b' },
        { id: ids[1], v: 'b' },
        { id: ids[2], v: 'c' },
      ]);
    });

    it('runs single statements outside a transaction, each committed on its own', async () => {
      expect(await runner.run(INSERT, [7, 'alone'])).toEqual({ insertId: 7, affectedRows: 1 });
      // insertId after an UPDATE differs by engine (MySQL 0, SQLite the connection's last rowid): not asserted.
      expect(await runner.run(UPDATE_BY_ID, ['changed', 7])).toMatchObject({ affectedRows: 1 });
      expect(await runner.rows('select id, v from sql_scratch where id = ?', [7])).toEqual([{ id: 7, v: 'changed' }]);
      expect(await readElsewhere(7)).toBe('changed');
    });

    it('rolls everything back and rethrows the same error when the work throws, without running afterCommit callbacks', async () => {
      const refusal = new Error('work refused');
      const called: string[] = [];
      await expect(
        singleRunner.transaction(async (sql) => {
          await sql.run(INSERT, [1, 'first']);
          sql.afterCommit(() => called.push('after commit'));
          await sql.run(INSERT, [2, 'second']);
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(called).toEqual([]);
      // Through the same single connection: a transaction left open would show its own rows here.
      expect(await stored(single)).toEqual([]);
      expect(await stored(knex)).toEqual([]);
    });

    it('runs afterCommit callbacks in order once the unit has committed, when another connection sees its writes', async () => {
      const order: number[] = [];
      const seenElsewhere: Array<Promise<string | undefined>> = [];
      const result = await runner.transaction(async (sql) => {
        await sql.run(INSERT, [1, 'committed']);
        sql.afterCommit(() => {
          order.push(1);
          seenElsewhere.push(readElsewhere(1));
        });
        sql.afterCommit(() => order.push(2));
        sql.afterCommit(() => order.push(3));
        expect(order).toEqual([]);
        return 'done';
      });
      expect(result).toBe('done');
      expect(order).toEqual([1, 2, 3]);
      expect(await Promise.all(seenElsewhere)).toEqual(['committed']);
    });

    it('answers a committed unit as committed when an afterCommit callback throws, and still runs the others', async () => {
      const order: number[] = [];
      const result = await runner.transaction(async (sql) => {
        await sql.run(INSERT, [1, 'kept']);
        sql.afterCommit(() => order.push(1));
        sql.afterCommit(() => {
          throw new Error('a notification failed');
        });
        sql.afterCommit(() => order.push(3));
        return 'done';
      });
      expect(result).toBe('done');
      expect(order).toEqual([1, 3]);
      expect(await readElsewhere(1)).toBe('kept');
    });

    it("rejects with the driver's error when a statement fails, and rolls back the unit's earlier statements", async () => {
      await knex('sql_scratch').insert({ id: 1, v: 'before' });
      const failure = await singleRunner
        .transaction(async (sql) => {
          await sql.run(INSERT, [2, 'same unit']);
          await sql.run(UPDATE_BY_ID, ['overwritten', 1]);
          await sql.run(INSERT, [1, 'duplicate']);
          return 'not reached';
        })
        .catch((error: unknown) => error);
      // toMatchObject, not toThrow: better-sqlite3's errors fail jest's Error check outside the first file loading it.
      expect(failure).toMatchObject({ code: engine === 'mysql' ? 'ER_DUP_ENTRY' : 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      expect(classifyDatabaseError(failure)).toBe('duplicate_key');
      expect(await stored(single)).toEqual([{ id: 1, v: 'before' }]);
    });

    it('gives its connection back to the pool after commits, rollbacks and failed statements', async () => {
      const attempts: Array<(round: number) => Promise<unknown>> = [
        (round) => singleRunner.transaction((sql) => sql.run(INSERT, [round, 'kept'])),
        (round) =>
          singleRunner.transaction(async (sql) => {
            await sql.run(INSERT, [round, 'thrown away']);
            throw new Error('refused');
          }),
        () => singleRunner.transaction((sql) => sql.rows('select * from no_such_table', [])),
        () => singleRunner.rows('select * from no_such_table', []),
        () => singleRunner.run(INSERT, [1, 'duplicate of round 1']),
      ];
      const outcomes: string[] = [];
      for (let round = 1; round <= 20; round += 1) {
        outcomes.push(
          await attempts[(round - 1) % attempts.length](round).then(
            () => 'ok',
            () => 'failed',
          ),
        );
        expect({ round, inUse: connectionsInUse(single) }).toEqual({ round, inUse: 0 });
      }
      expect(outcomes).toEqual(Array.from({ length: 4 }, () => ['ok', 'failed', 'failed', 'failed', 'failed']).flat());
      expect(await stored(single)).toEqual([1, 6, 11, 16].map((id) => ({ id, v: 'kept' })));
    });

    sqliteOnly(
      'takes the write lock as it begins (BEGIN IMMEDIATE), so another connection cannot write meanwhile',
      async () => {
        const elsewhere = sqliteReader as SqliteConnection;
        elsewhere.pragma('busy_timeout = 0');
        try {
          const refusal = await runner.transaction(async (sql) => {
            await sql.rows('select count(*) as n from sql_scratch', []);
            try {
              elsewhere.prepare(INSERT).run(1, 'elsewhere');
              return null;
            } catch (error) {
              return error;
            }
          });
          expect(refusal).toMatchObject({ code: 'SQLITE_BUSY' });
        } finally {
          elsewhere.pragma('busy_timeout = 5000');
        }
        expect(await stored(knex)).toEqual([]);
      },
    );

    it('runs `once` statements unprepared with the same results, their values escaped', async () => {
      const awkward = `O'Brien \\ "quoted" ; -- ?`;
      const report = await runner.transaction(async (sql) => ({
        insert: await sql.run(INSERT, [1, awkward], { once: true }),
        read: await sql.rows('select id, v from sql_scratch where id in (?, ?)', [1, 2], { once: true }),
      }));
      expect(report).toEqual({ insert: { insertId: 1, affectedRows: 1 }, read: [{ id: 1, v: awkward }] });
      expect(await runner.run(UPDATE_BY_ID, ['plain', 1], { once: true })).toMatchObject({ affectedRows: 1 });
      expect(await runner.rows('select v from sql_scratch where id = ?', [1], { once: true })).toEqual([
        { v: 'plain' },
      ]);
    });

    mysqlOnly('prepares a statement once per connection, and never a `once` statement', async () => {
      const prepares = async (sql: Sql) =>
        Number(
          (await sql.rows<{ Value: string }>("show session status like 'Com_stmt_prepare'", [], { once: true }))[0]
            .Value,
        );
      const counted = await singleRunner.transaction(async (sql) => {
        const before = await prepares(sql);
        for (const id of [1, 2, 3]) await sql.rows('select v from sql_scratch where id = ? /* prepared probe */', [id]);
        const afterPrepared = await prepares(sql);
        for (const id of [1, 2, 3])
          await sql.rows('select v from sql_scratch where id = ? /* once probe */', [id], { once: true });
        return { prepared: afterPrepared - before, once: (await prepares(sql)) - afterPrepared };
      });
      expect(counted).toEqual({ prepared: 1, once: 0 });
    });

    mysqlOnly(
      'fails as a lost connection when its connection is killed mid-unit, and the next unit gets a fresh one',
      async () => {
        let killedId = 0;
        const failure = await singleRunner
          .transaction(async (sql) => {
            await sql.run(INSERT, [1, 'lost with the connection']);
            const [{ id }] = await sql.rows<{ id: number }>('select connection_id() as id', []);
            killedId = Number(id);
            await knex.raw(`kill ${killedId}`);
            await sql.rows('select 1 as one', []);
            return 'not reached';
          })
          .catch((error: unknown) => error);
        expect(killedId).toBeGreaterThan(0);
        expect(classifyDatabaseError(failure)).toBe('connection');
        expect(connectionsInUse(single)).toBe(0);

        const nextId = await singleRunner.transaction(async (sql) => {
          await sql.run(INSERT, [2, 'after']);
          const [{ id }] = await sql.rows<{ id: number }>('select connection_id() as id', []);
          return Number(id);
        });
        expect(nextId).not.toBe(killedId);
        expect(await stored(knex)).toEqual([{ id: 2, v: 'after' }]);
      },
    );

    mysqlOnly('serialises two units that lock the same row: the second sees what the first committed', async () => {
      await knex('sql_scratch').insert({ id: 1, v: 'start' });
      const firstHoldsLock = gate();
      const firstMayFinish = gate();
      const secondConnection = gate<number>();
      let secondSettled = false;
      const first = runner.transaction(async (sql) => {
        await sql.rows(LOCK_ROW, [1]);
        firstHoldsLock.open();
        await firstMayFinish.opened;
        await sql.run(UPDATE_BY_ID, ['first', 1]);
      });
      try {
        await firstHoldsLock.opened;
        const second = runner
          .transaction(async (sql) => {
            const [{ id }] = await sql.rows<{ id: number }>('select connection_id() as id', []);
            secondConnection.open(Number(id));
            const [row] = await sql.rows<{ v: string }>(LOCK_ROW, [1]);
            await sql.run(UPDATE_BY_ID, [`${row.v}+second`, 1]);
            return row.v;
          })
          .finally(() => (secondSettled = true));
        // Wait (by state, not by time) until the server is running the second unit's locking read.
        const secondId = await secondConnection.opened;
        while (!secondSettled && !(await isRunning(knex, secondId, LOCK_ROW)))
          await new Promise((resolve) => setImmediate(resolve));
        expect(secondSettled).toBe(false);
        firstMayFinish.open();
        await first;
        expect(await second).toBe('first');
        expect(await stored(knex)).toEqual([{ id: 1, v: 'first+second' }]);
      } finally {
        firstMayFinish.open();
        await first.catch(() => undefined);
      }
    });
  });

  describe("knex's builder on a unit of work (select, write)", () => {
    it("runs built queries on the unit's connection: its own writes seen, nothing seen elsewhere before COMMIT", async () => {
      await runner.transaction(async (sql) => {
        expect(await sql.write(knex('sql_scratch').insert({ id: 1, v: 'built' }))).toEqual({
          insertId: 1,
          affectedRows: 1,
        });
        expect(await sql.select(knex('sql_scratch').where({ id: 1 }).first('v'))).toEqual([{ v: 'built' }]);
        expect(await readElsewhere(1)).toBeUndefined();
        expect(await sql.write(knex('sql_scratch').where({ id: 1 }).update({ v: 'changed' }))).toMatchObject({
          affectedRows: 1,
        });
        expect(await sql.write(knex('sql_scratch').where({ id: 99 }).delete())).toMatchObject({ affectedRows: 0 });
      });
      expect(await stored(knex)).toEqual([{ id: 1, v: 'changed' }]);
    });

    it('binds values as knex does: quotes and semicolons stay values, booleans become 1/0, an empty insert does nothing', async () => {
      const hostile = "x'; drop table sql_scratch; --";
      await runner.transaction(async (sql) => {
        await sql.write(knex('sql_scratch').insert([{ v: hostile }, { v: 'second' }]));
        expect(await sql.write(knex('sql_scratch').insert([]))).toEqual({ insertId: 0, affectedRows: 0 });
        const [{ n }] = await sql.select<{ n: number | string }>(
          knex('sql_scratch').whereRaw('? = 1', [true]).count({ n: '*' }),
        );
        expect(Number(n)).toBe(2);
      });
      expect((await stored(knex)).map((row) => row.v)).toEqual([hostile, 'second']);
    });

    it('rolls built writes back with the unit', async () => {
      const refusal = new Error('refused');
      await expect(
        runner.transaction(async (sql) => {
          await sql.write(knex('sql_scratch').insert({ id: 1, v: 'gone' }));
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(await stored(knex)).toEqual([]);
    });

    it('reads integers past 2^53 exactly when asked (SQLite as bigint, MariaDB as a string)', async () => {
      const [row] = await runner.alone.select<{ big: unknown }>(knex.select(knex.raw('9007199254740993 as big')), {
        exactIntegers: true,
      });
      expect(String(row.big)).toBe('9007199254740993');
    });
  });

  describe('inSavepoint', () => {
    it('rolls back only what the savepoint did; the unit carries on and commits the rest', async () => {
      const refusal = new Error('campaign failed');
      await runner.transaction(async (sql) => {
        await sql.run(INSERT, [1, 'before']);
        await expect(
          inSavepoint(sql, async (inner) => {
            await inner.run(INSERT, [2, 'inside']);
            throw refusal;
          }),
        ).rejects.toBe(refusal);
        expect(await inSavepoint(sql, async (inner) => (await inner.run(INSERT, [3, 'kept'])).affectedRows)).toBe(1);
      });
      expect(await stored(knex)).toEqual([
        { id: 1, v: 'before' },
        { id: 3, v: 'kept' },
      ]);
    });

    it('nests, and a savepoint kept is still undone when the unit rolls back', async () => {
      const refusal = new Error('unit failed');
      await expect(
        runner.transaction(async (sql) => {
          await inSavepoint(sql, (outer) => inSavepoint(outer, (inner) => inner.run(INSERT, [1, 'nested'])));
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(await stored(knex)).toEqual([]);
    });
  });

  describe('alone: statements on the pool, outside any unit', () => {
    it('commits each statement as it runs, gives connections back, and refuses afterCommit', async () => {
      await runner.alone.write(knex('sql_scratch').insert({ id: 1, v: 'alone' }));
      expect(await readElsewhere(1)).toBe('alone');
      expect(
        await runner.alone.all([
          writeStatement(INSERT, [2, 'two']),
          readStatement('select count(*) as n from sql_scratch', [], (rows: Array<{ n: number | string }>) =>
            Number(rows[0].n),
          ),
        ]),
      ).toEqual([{ insertId: 2, affectedRows: 1 }, 2]);
      expect(connectionsInUse(knex)).toBe(0);
      expect(() => runner.alone.afterCommit(() => undefined)).toThrow('afterCommit needs a unit of work');
    });
  });

  describe('all: several statements at once', () => {
    const readValue = (id: number) =>
      readStatement('select v from sql_scratch where id = ?', [id], (rows: Array<{ v: string }>) => rows[0]?.v ?? null);

    it('runs the statements in order and reads each result: rows of a read, counts and id of a write', async () => {
      const [first, second, updated, value, missing] = await runner.transaction((sql) =>
        sql.all([
          writeStatement(INSERT, [1, 'one']),
          writeStatement(INSERT_VALUE, ['two']),
          writeStatement(UPDATE_BY_ID, ['one, changed', 1]),
          readValue(1),
          readValue(99),
        ]),
      );
      expect(first).toEqual({ insertId: 1, affectedRows: 1 });
      // The table's counter has moved on with earlier tests' rows.
      expect(second).toEqual({ insertId: expect.any(Number), affectedRows: 1 });
      expect(second.insertId).toBeGreaterThan(1);
      expect(updated).toMatchObject({ affectedRows: 1 });
      expect([value, missing]).toEqual(['one, changed', null]);
      expect(await stored(knex)).toEqual([
        { id: 1, v: 'one, changed' },
        { id: second.insertId, v: 'two' },
      ]);
    });

    it('keeps values values: quotes, backslashes, semicolons, comments, unicode and null come back exactly', async () => {
      const hostile = [
        "'; delete from sql_scratch; --",
        'back\\slash \\\' and "double"',
        'é ü ß 日本 🙂',
        '? and ?? are not placeholders here',
        '/* not a comment */ # nor this',
      ];
      const read = readStatement(
        'select id, v from sql_scratch order by id',
        [],
        (rows: Array<{ id: number; v: string | null }>) => rows.map((row) => row.v),
      );
      const [, , , , , , values] = await runner.transaction((sql) =>
        sql.all([
          ...hostile.map((v, i) => writeStatement(INSERT, [i + 1, v])),
          writeStatement(INSERT, [hostile.length + 1, null]),
          read,
        ]),
      );
      expect(values).toEqual([...hostile, null]);
      expect((await stored(knex)).map((row) => row.v)).toEqual([...hostile, null]);
    });

    it('is part of the unit of work when it opens it: nothing is seen elsewhere before COMMIT', async () => {
      const seenBeforeCommit = await runner.transaction(async (sql) => {
        await sql.all([writeStatement(INSERT, [1, 'pending']), readValue(1)]);
        return readElsewhere(1);
      });
      expect(seenBeforeCommit).toBeUndefined();
      expect(await readElsewhere(1)).toBe('pending');
    });

    it('fails at the first failing statement and the unit of work rolls back all of it', async () => {
      await knex('sql_scratch').insert({ id: 2, v: 'taken' });
      const attempt = singleRunner.transaction((sql) =>
        sql.all([
          writeStatement(INSERT, [1, 'before the failure']),
          writeStatement(INSERT, [2, 'duplicate id']),
          writeStatement(INSERT, [3, 'after the failure']),
        ]),
      );
      const error = await attempt.catch((caught: unknown) => caught);
      expect(classifyDatabaseError(error)).toBe('duplicate_key');
      // Through the same single connection: a transaction left open would show its own rows here.
      expect(await stored(single)).toEqual([{ id: 2, v: 'taken' }]);
    });

    it('a read statement that throws while reading rolls the unit back like a database error', async () => {
      const refusal = new Error('read refused');
      const refusing = readStatement('select v from sql_scratch where id = ?', [1], () => {
        throw refusal;
      });
      await expect(
        singleRunner.transaction((sql) => sql.all([writeStatement(INSERT, [1, 'written']), refusing])),
      ).rejects.toBe(refusal);
      expect(await stored(single)).toEqual([]);
    });

    /**
     * MariaDB: what `work` sends on the single pool's one connection, each text with how it was sent
     * (`query`: text protocol, `execute`: prepared).
     */
    async function sentThrough(work: () => Promise<unknown>): Promise<string[]> {
      const sent: string[] = [];
      const connection = (await single.client.acquireConnection()) as Record<
        'query' | 'execute',
        (...args: unknown[]) => unknown
      >;
      const { query, execute } = connection;
      const textOf = (sqlOrOptions: unknown) =>
        typeof sqlOrOptions === 'string' ? sqlOrOptions : (sqlOrOptions as { sql: string }).sql;
      connection.query = function (this: unknown, ...args: unknown[]) {
        sent.push(`query: ${textOf(args[0])}`);
        return query.apply(this, args);
      };
      connection.execute = function (this: unknown, ...args: unknown[]) {
        sent.push(`execute: ${textOf(args[0])}`);
        return execute.apply(this, args);
      };
      single.client.releaseConnection(connection);
      try {
        await work();
      } finally {
        const again = (await single.client.acquireConnection()) as typeof connection;
        expect(again).toBe(connection);
        Object.assign(connection, { query, execute });
        single.client.releaseConnection(again);
      }
      return sent;
    }

    mysqlOnly(
      'sends BEGIN with the unit’s first statements, several statements as one query, and nothing for an empty unit',
      async () => {
        const sent = await sentThrough(async () => {
          await singleRunner.transaction(async () => 'nothing to do');
          await singleRunner.transaction(async (sql) => {
            await sql.all([writeStatement(INSERT, [1, 'a']), readValue(1)]);
            await sql.all([writeStatement(UPDATE_BY_ID, ['b', 1])]);
          });
        });
        expect(sent).toEqual([
          "query: START TRANSACTION;\ninsert into sql_scratch (id, v) values (1, 'a');\nselect v from sql_scratch where id = 1",
          `execute: ${UPDATE_BY_ID}`,
          'query: COMMIT',
        ]);
      },
    );

    mysqlOnly('sends COMMIT with the last statements when asked, and no COMMIT of its own afterwards', async () => {
      const sent = await sentThrough(async () => {
        await singleRunner.transaction((sql) =>
          sql.all([writeStatement(INSERT, [1, 'a']), readValue(1)], { commit: true }),
        );
        await singleRunner.transaction(async (sql) => {
          await sql.all([writeStatement(UPDATE_BY_ID, ['b', 1])]);
          await sql.all([readValue(1)], { commit: true });
        });
      });
      expect(sent).toEqual([
        "query: START TRANSACTION;\ninsert into sql_scratch (id, v) values (1, 'a');\nselect v from sql_scratch where id = 1;\nCOMMIT",
        "query: START TRANSACTION;\nupdate sql_scratch set v = 'b' where id = 1",
        'query: select v from sql_scratch where id = 1;\nCOMMIT',
      ]);
      expect(await stored(knex)).toEqual([{ id: 1, v: 'b' }]);
    });

    describe('with the COMMIT (commit: true)', () => {
      it('commits the unit with its statements: seen elsewhere before the work returns, and the results read as usual', async () => {
        await knex('sql_scratch').insert({ id: 9, v: 'earlier' });
        const report = await runner.transaction(async (sql) => {
          const [inserted, updated, value] = await sql.all(
            [
              writeStatement(INSERT, [1, 'committed early']),
              writeStatement(UPDATE_BY_ID, ['changed', 9]),
              readValue(1),
            ],
            {
              commit: true,
            },
          );
          return {
            inserted,
            updated: updated.affectedRows,
            value,
            seenElsewhere: [await readElsewhere(1), await readElsewhere(9)],
          };
        });
        expect(report).toEqual({
          inserted: { insertId: 1, affectedRows: 1 },
          updated: 1,
          value: 'committed early',
          seenElsewhere: ['committed early', 'changed'],
        });
        expect(await stored(knex)).toEqual([
          { id: 1, v: 'committed early' },
          { id: 9, v: 'changed' },
        ]);
      });

      it('refuses any statement after it, and the connection goes back to the pool clean', async () => {
        const refusals = await singleRunner.transaction(async (sql) => {
          await sql.all([writeStatement(INSERT, [1, 'committed'])], { commit: true });
          const refused = (attempt: () => Promise<unknown>) =>
            attempt().then(
              () => 'accepted',
              (error: Error) => error.message,
            );
          return [
            await refused(() => sql.run(INSERT, [2, 'too late'])),
            await refused(() => sql.rows('select v from sql_scratch where id = ?', [1])),
            await refused(() => sql.all([writeStatement(INSERT, [3, 'too late'])])),
          ];
        });
        expect(refusals).toEqual(Array(3).fill('the unit of work has committed: no statement may follow'));
        expect(connectionsInUse(single)).toBe(0);
        // Through the same single connection: no transaction was left open on it.
        await single('sql_scratch').insert({ id: 4, v: 'next unit' });
        expect(await readElsewhere(4)).toBe('next unit');
        expect(await stored(knex)).toEqual([
          { id: 1, v: 'committed' },
          { id: 4, v: 'next unit' },
        ]);
      });

      it('stores nothing when a statement of the batch fails: the COMMIT is not reached and the unit rolls back', async () => {
        await knex('sql_scratch').insert({ id: 2, v: 'taken' });
        const attempt = singleRunner.transaction((sql) =>
          sql.all(
            [
              writeStatement(INSERT, [1, 'before the failure']),
              writeStatement(INSERT, [2, 'duplicate id']),
              writeStatement(INSERT, [3, 'after the failure']),
            ],
            { commit: true },
          ),
        );
        const error = await attempt.catch((caught: unknown) => caught);
        expect(classifyDatabaseError(error)).toBe('duplicate_key');
        // Through the same single connection: a transaction left open would show its own rows here.
        expect(await stored(single)).toEqual([{ id: 2, v: 'taken' }]);
        expect(await stored(knex)).toEqual([{ id: 2, v: 'taken' }]);
      });

      it("answers a read that throws after the commit with a plain error, not the read's own, and the writes stay", async () => {
        const refusal = Object.assign(new Error('Connection lost: looks like a database error'), {
          code: 'PROTOCOL_CONNECTION_LOST',
        });
        const refusing = readStatement('select v from sql_scratch where id = ?', [1], () => {
          throw refusal;
        });
        const error = await singleRunner
          .transaction((sql) => sql.all([writeStatement(INSERT, [1, 'written']), refusing], { commit: true }))
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toBe('the unit of work committed, but reading its results failed');
        expect((error as Error).cause).toBe(refusal);
        // Not to be retried, nor looked after as a lost connection: the unit has committed.
        expect(classifyDatabaseError(error)).toBe('other');
        expect(await stored(single)).toEqual([{ id: 1, v: 'written' }]);
      });
    });

    mysqlOnly('takes the statements one at a time on a connection opened without multipleStatements', async () => {
      const plain = new URL((database.config as { url: string }).url);
      const handle = (await import('knex')).default({
        client: 'mysql2',
        connection: { uri: plain.toString() } as Knex.MySql2ConnectionConfig,
        pool: { min: 0, max: 1 },
      });
      try {
        const results = await new SqlRunner(handle, 'mysql').transaction((sql) =>
          sql.all([writeStatement(INSERT, [1, 'one']), writeStatement(INSERT, [2, 'two']), readValue(2)]),
        );
        expect(results).toEqual([{ insertId: 1, affectedRows: 1 }, { insertId: 2, affectedRows: 1 }, 'two']);
        expect(await stored(knex)).toEqual([
          { id: 1, v: 'one' },
          { id: 2, v: 'two' },
        ]);
      } finally {
        await handle.destroy();
      }
    });
  });

  it("announces each statement on knex's 'query' event with its sql and bindings", async () => {
    const announced: Array<{ sql: string; bindings: unknown }> = [];
    const listener = (query: { sql: string; bindings?: unknown }) =>
      announced.push({ sql: query.sql, bindings: query.bindings });
    knex.on('query', listener);
    try {
      await runner.run(INSERT, [1, 'outside']);
      await runner.rows('select v from sql_scratch where id = ?', [1]);
      await runner.transaction(async (sql) => {
        await sql.run(UPDATE_BY_ID, ['inside', 1]);
        await sql.rows('select id from sql_scratch where v = ?', ['inside']);
        await sql.all([
          writeStatement(UPDATE_BY_ID, ['batched', 1]),
          readStatement('select v from sql_scratch where id = ?', [1], (rows) => rows),
        ]);
      });
      await runner.alone.select(knex('sql_scratch').where('id', '>', 0).count({ n: '*' }));
    } finally {
      knex.off('query', listener);
    }
    expect(announced).toEqual([
      { sql: INSERT, bindings: [1, 'outside'] },
      { sql: 'select v from sql_scratch where id = ?', bindings: [1] },
      { sql: UPDATE_BY_ID, bindings: ['inside', 1] },
      { sql: 'select id from sql_scratch where v = ?', bindings: ['inside'] },
      { sql: UPDATE_BY_ID, bindings: ['batched', 1] },
      { sql: 'select v from sql_scratch where id = ?', bindings: [1] },
      { sql: knex('sql_scratch').where('id', '>', 0).count({ n: '*' }).toSQL().toNative().sql, bindings: [0] },
    ]);
  });
});

/**
 * True while connection `id` runs `statement`. The processlist, not information_schema.innodb_trx: InnoDB
 * serves that table from a cache that is not refreshed while it keeps being read (a polling loop would
 * never see the lock wait begin).
 */
async function isRunning(handle: Knex, id: number, statement: string): Promise<boolean> {
  const [rows] = await handle.raw(
    'select count(*) as running from information_schema.processlist where id = ? and info = ?',
    [id, statement],
  );
  return Number(rows[0].running) > 0;
}
