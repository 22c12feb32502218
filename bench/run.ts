/**
 * `npm run bench`: the speed harness (targets in README, Benchmarks). Seeds MariaDB and SQLite, starts the real server (the
 * production build in dist/) and the floor as child processes, drives them with autocannon, prints a
 * table and writes bench/results/latest.json. Options: BENCH_* variables (bench-options.ts, README).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineRun, runEngine } from './engine-run';
import { BenchOptions, BenchOptionsError, loadBenchOptions } from './bench-options';
import { formatTable, formatTargets, machineInfo, writeResults } from './report';
import { applyFloorRatios, floodRatio, judgeTargets } from './targets';

const log = (line: string) => process.stdout.write(`${line}\n`);

function checkBuild(options: BenchOptions): void {
  for (const file of ['dist/src/server.js', 'dist/bench/floor-server.js']) {
    if (!fs.existsSync(path.join(options.root, file)))
      throw new BenchOptionsError(`${file} is missing: run \`npm run build\` first (or \`npm run bench\`)`);
  }
}

/** Successful answers the clients saw must all be in the history (more rows: requests in flight at a run's end). */
function historyCheck(run: EngineRun): { answered: number; recorded: number; ok: boolean } {
  const recorded = run.history.api ?? 0;
  return { answered: run.answeredSuccesses, recorded, ok: recorded >= run.answeredSuccesses };
}

async function main(): Promise<void> {
  // dist/bench/run.js → the repository root is two levels up.
  const options = loadBenchOptions(process.env, path.resolve(__dirname, '..', '..'));
  checkBuild(options);
  const started = new Date();
  const loadAverageAtStart = os.loadavg()[0];
  log(
    `txedit benchmark: ${options.durationSeconds} s per scenario, ${options.transactions.toLocaleString('en-US')} transactions, ` +
      `bcrypt cost ${options.bcryptCost}, pool ${options.poolMax}, engines ${options.engines.join(', ')}${options.quick ? ' (quick)' : ''}`,
  );
  const runs: EngineRun[] = [];
  const skipped: string[] = [];
  for (const engine of options.engines) {
    try {
      runs.push(await runEngine(engine, options, log));
    } catch (error) {
      const reason = `${engine}: not measured: ${(error as Error).message.split('\n')[0].slice(0, 300)}`;
      skipped.push(reason);
      log(reason);
      if (engine === 'sqlite' || !/ECONNREFUSED|ER_ACCESS_DENIED|connect/i.test((error as Error).message)) throw error;
    }
  }
  applyFloorRatios(runs);
  const rows = runs.flatMap((run) => run.rows);
  const targets = judgeTargets(runs);
  const mariadb = runs.find((run) => run.engine === 'mysql')?.databaseVersion ?? null;
  const machine = machineInfo(mariadb, loadAverageAtStart);
  const table = formatTable(rows);

  log('');
  log(
    `${started.toISOString()} — ${machine.nproc} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, ` +
      `MariaDB ${mariadb ?? '–'}; load average at start ${loadAverageAtStart.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)}`,
  );
  log(table);
  log('');
  for (const run of runs) {
    const ratio = floodRatio(runs, run.engine);
    if (ratio !== null)
      log(`${run.engine}: success path during the wrong-password flood: ${ratio.toFixed(2)} × its throughput alone`);
    const history = historyCheck(run);
    log(
      `${run.engine}: history check: ${history.answered} successes answered, ${history.recorded} API history rows — ${history.ok ? 'ok' : 'MISSING ROWS'}`,
    );
    if (run.bulkSkipped) log(`${run.engine}: bulk: skipped — ${run.bulkSkipped}`);
  }
  log('');
  log('Targets:');
  log(formatTargets(targets));

  writeResults(options.output, {
    date: started.toISOString(),
    machine,
    settings: {
      durationSeconds: options.durationSeconds,
      pairs: options.pairs,
      warmupSeconds: options.warmupSeconds,
      transactions: options.transactions,
      bulkRows: options.bulkRows,
      bcryptCost: options.bcryptCost,
      poolMax: options.poolMax,
      quick: options.quick,
      engines: options.engines,
      scenarios: options.scenarios,
    },
    skipped,
    table,
    targets,
    floodRatio: Object.fromEntries(runs.map((run) => [run.engine, floodRatio(runs, run.engine)])),
    engines: runs.map((run) => ({
      engine: run.engine,
      transactions: run.transactions,
      seedSeconds: run.seedSeconds,
      bulk: run.bulk,
      bulkSkipped: run.bulkSkipped,
      bulkImpact: run.bulkImpact,
      bulkImpactSkipped: run.bulkImpactSkipped,
      historyCheck: historyCheck(run),
      historyBySource: run.history,
      floorPairs: run.pairs,
      lowConcurrencyPairs: run.lowConcurrencyPairs,
      floodPairs: run.floodPairs,
      manyAddressFlood: run.manyAddressFlood,
      impactApiSkipped: run.impactApiSkipped,
      impactApiDrain: run.impactApiDrain,
      changesPerUnit: run.changesPerUnit,
    })),
    rows,
  });
  log(`\nwrote ${path.relative(process.cwd(), options.output) || options.output}`);
  if (runs.some((run) => !historyCheck(run).ok)) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(
    `bench: ${error instanceof BenchOptionsError ? error.message : ((error as Error).stack ?? String(error))}\n`,
  );
  process.exit(1);
});
