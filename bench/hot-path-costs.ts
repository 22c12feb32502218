/**
 * Where the success path's Node CPU goes, one operation at a time (no concurrency, so no queueing):
 * the core's `modify()` as the server calls it, then the same SQL without the core (edit-statements.ts)
 * through knex and through mysql2 prepared statements, and single statements and empty transactions. CPU is this process's user+system time per operation, which
 * stays meaningful on a busy shared machine where wall time does not.
 *
 *   npm run build && node dist/bench/hot-path-costs.js
 *   (BENCH_MYSQL_URL as for the benchmark; BENCH_ITERATIONS per round, 500; BENCH_ROUNDS, 5)
 *
 * The database `<name>_hotpath` is created and dropped.
 */
import mysql from 'mysql2/promise';
import { randomTransactionOf, SUCCESS_CAMPAIGNS } from './bench-data';
import { EditValues, knexSession, mysqlSession, runEdit } from './edit-statements';
import { seededServices, successCommand } from './bench-services';
import { createMysqlDatabase } from './seed';

const TRANSACTIONS = 10_000;

/** One operation to time: what it is, the work, and (for knex) a statement counter. */
interface Operation {
  name: string;
  work: (i: number) => Promise<unknown>;
  statements?: () => number;
}

interface Sample {
  cpuUs: number;
  wallUs: number;
  statements: number | null;
}

async function sample(operation: Operation, iterations: number): Promise<Sample> {
  const statementsBefore = operation.statements?.() ?? 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await operation.work(i);
  const used = process.cpuUsage(cpu);
  return {
    cpuUs: (used.user + used.system) / iterations,
    wallUs: Number(process.hrtime.bigint() - started) / 1e3 / iterations,
    statements: operation.statements ? (operation.statements() - statementsBefore) / iterations : null,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Times every operation in `rounds` interleaved rounds (so a burst of other work on a shared machine
 * hits all of them alike) after one warm-up round, and reports each one's median round.
 */
async function timeAll(
  operations: Operation[],
  iterations: number,
  rounds: number,
): Promise<Array<{ name: string } & Sample>> {
  for (const operation of operations) await sample(operation, Math.min(200, iterations));
  const samples = operations.map(() => [] as Sample[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, operation] of operations.entries()) samples[i].push(await sample(operation, iterations));
  }
  return operations.map((operation, i) => ({
    name: operation.name,
    cpuUs: median(samples[i].map((s) => s.cpuUs)),
    wallUs: median(samples[i].map((s) => s.wallUs)),
    statements: samples[i][0].statements,
  }));
}

const command = (i: number) => successCommand(TRANSACTIONS, i, `hot-path-${i}`);

async function main(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 500);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const baseUrl = process.env.BENCH_MYSQL_URL?.trim() || 'mysql://root@127.0.0.1:3306/txedit_bench';
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname}_hotpath`;
  const database = await createMysqlDatabase(url.toString());
  try {
    const { db, services, close } = await seededServices(database, TRANSACTIONS);
    let statements = 0;
    db.knex.on('query', () => statements++);
    const pool = mysql.createPool({
      uri: database.url,
      connectionLimit: 4,
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    const id = () => randomTransactionOf(TRANSACTIONS, SUCCESS_CAMPAIGNS);
    const counted = () => statements;
    const edit = (i: number): EditValues => ({
      transactionId: id(),
      affiliatePayout: 10_000 + (i % 500),
      merchantRevenue: 250_000,
      approved: i % 10 !== 0,
      reason: 'bench',
      clientIp: '127.0.0.1',
    });
    const operations: Operation[] = [
      {
        name: 'core modify() (knex, as the server runs it)',
        work: (i) => services.modifications.modify(command(i)),
        statements: counted,
      },
      {
        name: 'knex.raw: the server statement list',
        work: (i) => runEdit(knexSession(db.knex), edit(i), 'server'),
        statements: counted,
      },
      {
        name: 'mysql2 prepared: the server statement list',
        work: (i) => runEdit(mysqlSession(pool), edit(i), 'server'),
      },
      {
        name: 'knex.raw: the minimal statement list',
        work: (i) => runEdit(knexSession(db.knex), edit(i), 'minimal'),
        statements: counted,
      },
      {
        name: 'mysql2 prepared: the minimal statement list (the floor)',
        work: (i) => runEdit(mysqlSession(pool), edit(i), 'minimal'),
      },
      {
        name: 'knex.raw: one PK select',
        work: () => db.knex.raw('select * from transactions where id = ?', [id()]),
        statements: counted,
      },
      {
        name: 'knex builder: one PK select',
        work: () => db.knex('transactions').where({ id: id() }).first(),
        statements: counted,
      },
      {
        name: 'mysql2 execute: one PK select',
        work: () => pool.execute('select * from transactions where id = ?', [id()]),
      },
      {
        name: 'knex.transaction: empty (BEGIN + COMMIT)',
        work: () => db.knex.transaction(async () => undefined),
        statements: counted,
      },
      {
        name: 'mysql2: BEGIN + COMMIT on a pooled connection',
        work: async () => {
          const connection = await pool.getConnection();
          await connection.query('START TRANSACTION');
          await connection.query('COMMIT');
          connection.release();
        },
      },
    ];
    let costs: Array<{ name: string } & Sample>;
    try {
      for (const campaign of SUCCESS_CAMPAIGNS) await services.modifications.modify(command(campaign));
      costs = await timeAll(operations, iterations, rounds);
    } finally {
      await pool.end();
      await close();
    }
    process.stdout.write(
      `median of ${rounds} interleaved rounds of ${iterations} sequential operations, ${TRANSACTIONS} transactions, Node ${process.version}\n\n`,
    );
    process.stdout.write('| operation | Node CPU µs/op | wall µs/op | statements/op |\n|:--|--:|--:|--:|\n');
    for (const cost of costs) {
      process.stdout.write(
        `| ${cost.name} | ${cost.cpuUs.toFixed(0)} | ${cost.wallUs.toFixed(0)} | ${cost.statements === null ? '–' : cost.statements.toFixed(1)} |\n`,
      );
    }
  } finally {
    await database.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
