/**
 * The coalesced core path's CPU per change, without HTTP: `modify()` called for `BENCH_GROUP` commands at
 * once (so they share a unit of work, as concurrent requests do), in sequential groups, on a seeded
 * database. CPU is this process's user+system time (the SQLite engine's work included, being in-process),
 * which stays meaningful on a busy machine where wall time does not.
 *
 *   npm run build && node dist/bench/coalesced-costs.js
 *   (BENCH_ENGINES sqlite and/or mysql; BENCH_GROUP, 32; BENCH_ITERATIONS groups per round, 200; BENCH_ROUNDS, 5)
 */
import type { ModificationCommand } from '../src/modification/command';
import { passwordOf, SUCCESS_CAMPAIGNS } from './bench-data';
import { seededServices, successCommand } from './bench-services';
import { createMysqlDatabase, createSqliteDatabase, type BenchDatabase } from './seed';

const TRANSACTIONS = 100_000;
let serial = 0;

function command(): ModificationCommand {
  const i = serial++;
  return successCommand(TRANSACTIONS, i, `coalesced-${i}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(engine: 'sqlite' | 'mysql', group: number, groups: number, rounds: number): Promise<string> {
  const database: BenchDatabase =
    engine === 'sqlite'
      ? createSqliteDatabase()
      : await createMysqlDatabase(
          `${process.env.BENCH_MYSQL_URL?.trim() || 'mysql://root@127.0.0.1:3306/txedit_bench'}_coalesced`,
        );
  try {
    const { services, close } = await seededServices(database, TRANSACTIONS);
    try {
      // One edit per campaign first: each password passes a compare, so the rest may coalesce.
      for (const campaign of SUCCESS_CAMPAIGNS) {
        const first = command();
        first.identifier = { kind: 'transaction_id', transactionId: campaign, campaignId: null };
        first.password = passwordOf(campaign);
        await services.modifications.modify(first);
      }
      const perChange: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        const cpu = process.cpuUsage();
        for (let g = 0; g < groups; g++) {
          const outcomes = await Promise.all(
            Array.from({ length: group }, () => services.modifications.modify(command())),
          );
          const failed = outcomes.find((outcome) => outcome.kind !== 'applied');
          if (failed) throw new Error(`an edit was not applied: ${failed.kind}`);
        }
        const used = process.cpuUsage(cpu);
        if (round > 0) perChange.push((used.user + used.system) / (group * groups)); // round 0 warms up
      }
      const { changes, units } = services.modifications.coalescing();
      return `| ${engine} | ${group} | ${median(perChange).toFixed(1)} | ${Math.min(...perChange).toFixed(1)} | ${(changes / units).toFixed(1)} |`;
    } finally {
      await close();
    }
  } finally {
    await database.drop();
  }
}

async function main(): Promise<void> {
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite').split(',').map((e) => e.trim()) as Array<'sqlite' | 'mysql'>;
  const group = Number(process.env.BENCH_GROUP ?? 32);
  const groups = Number(process.env.BENCH_ITERATIONS ?? 200);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  process.stdout.write(
    '| engine | changes at once | CPU µs/change (median round) | best round | changes/unit |\n|:--|--:|--:|--:|--:|\n',
  );
  for (const engine of engines) process.stdout.write(`${await measure(engine, group, groups, rounds)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
