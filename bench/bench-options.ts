import os from 'node:os';
import path from 'node:path';

/** An engine the benchmark runs the real server on. */
export type BenchEngine = 'mysql' | 'sqlite';

/** Everything `npm run bench` can be told through its environment (documented in README "Benchmarks"). */
export interface BenchOptions {
  /** BENCH_QUICK=1: a smoke run (2 s per scenario, 10,000 transactions, 5,000 bulk rows, bcrypt cost 4). */
  quick: boolean;
  /** Seconds each measured scenario runs (BENCH_DURATION). */
  durationSeconds: number;
  /**
   * Times the floor and the server's success path are measured at 50 connections, alternating
   * (BENCH_PAIRS): the table keeps the pair with the median ratio, the results JSON every pair.
   */
  pairs: number;
  /** Seconds of unmeasured load after each server starts (JIT, pools, prepared statements). */
  warmupSeconds: number;
  /** Transactions seeded per engine (BENCH_TRANSACTIONS; rounded to a multiple of the campaign count). */
  transactions: number;
  /** Longest wait before each run for other work on the machine to calm down (BENCH_QUIET_WAIT). */
  quietWaitSeconds: number;
  /** Addresses of the many-address flood, one wrong password each (BENCH_FLOOD_ADDRESSES). */
  floodAddresses: number;
  /** Rows in the bulk upload (BENCH_BULK_ROWS); 0 skips the bulk scenario. */
  bulkRows: number;
  /** Longest wait for the bulk upload to finish before it is reported as unfinished. */
  bulkTimeoutSeconds: number;
  /** Server URL plus the database to create and drop (BENCH_MYSQL_URL). */
  mysqlUrl: string;
  /** Engines to run (BENCH_ENGINES, comma list). */
  engines: BenchEngine[];
  /** BCRYPT_COST of the server and of the seeded campaign passwords (BENCH_BCRYPT_COST). */
  bcryptCost: number;
  /** DATABASE_POOL_MAX of the server, and the floor's pool size (BENCH_POOL_MAX). */
  poolMax: number;
  /** Directory for `--cpu-prof` profiles of the server processes (BENCH_CPU_PROF), or null. */
  cpuProfileDir: string | null;
  /** Where the results JSON goes (BENCH_OUTPUT). */
  output: string;
  /** Keep the MariaDB database and SQLite file after the run (BENCH_KEEP_DB=1), for inspection. */
  keepDatabases: boolean;
  /**
   * Run the server with metrics on (BENCH_METRICS, default on: METRICS_TOKEN set, so every request feeds
   * them, and each row of the server reads its edits per unit of work from them; `0` turns it off).
   */
  metrics: boolean;
  /** Scenarios to run (BENCH_SCENARIOS, comma list of SCENARIOS; default all). */
  scenarios: Scenario[];
  /** More settings for the server (BENCH_SERVER_ENV, e.g. `EDIT_COALESCING=false`, comma list of NAME=value). */
  serverEnv: Record<string, string>;
  /**
   * Where the bulk scenarios' files are applied (BENCH_BULK_WORKER): `server` (the batch worker inside the
   * server, as `npm start` runs it) or `process` (`txedit worker` in a process of its own beside a server
   * started with `BATCH_WORKER=false`).
   */
  bulkWorker: 'server' | 'process';
  /** The repository root (where dist/ lives). */
  root: string;
}

/**
 * The scenario groups BENCH_SCENARIOS can pick. The floor always runs on MariaDB: it is every ratio's
 * base. `floor-full` (the floor sending the real server's nine statements) is for analysis, not default.
 */
export const SCENARIOS = [
  'success',
  'flood',
  'flood-many',
  'wrong-password',
  'unknown',
  'mixed',
  'bulk',
  'bulk-impact',
  'impact-api',
  'floor-full',
] as const;
const DEFAULT_SCENARIOS = SCENARIOS.filter((scenario) => scenario !== 'floor-full');
export type Scenario = (typeof SCENARIOS)[number];

/** Thrown for an unusable BENCH_* variable; the message names it. */
export class BenchOptionsError extends Error {}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min)
    throw new BenchOptionsError(`${name} must be a whole number ≥ ${min}`);
  return Number(raw);
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  return ['1', 'true', 'yes'].includes((env[name] ?? '').trim().toLowerCase());
}

/** Reads the benchmark's options from the environment. `root` is the repository root. */
export function loadBenchOptions(env: NodeJS.ProcessEnv, root: string): BenchOptions {
  const quick = flag(env, 'BENCH_QUICK');
  const engines = (env.BENCH_ENGINES ?? 'mysql,sqlite')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  for (const engine of engines) {
    if (engine !== 'mysql' && engine !== 'sqlite')
      throw new BenchOptionsError('BENCH_ENGINES must list mysql and/or sqlite');
  }
  const scenarios = (env.BENCH_SCENARIOS ?? DEFAULT_SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const scenario of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(scenario))
      throw new BenchOptionsError(`BENCH_SCENARIOS must list some of ${SCENARIOS.join(', ')}`);
  }
  const durationSeconds = positive(env, 'BENCH_DURATION', quick ? 2 : 10);
  return {
    quick,
    durationSeconds,
    pairs: positive(env, 'BENCH_PAIRS', quick ? 1 : 3),
    warmupSeconds: quick ? 1 : Math.min(2, durationSeconds),
    transactions: positive(env, 'BENCH_TRANSACTIONS', quick ? 10_000 : 100_000, 100),
    quietWaitSeconds: positive(env, 'BENCH_QUIET_WAIT', quick ? 0 : 1, 0),
    floodAddresses: positive(env, 'BENCH_FLOOD_ADDRESSES', 3_000),
    bulkRows: positive(env, 'BENCH_BULK_ROWS', quick ? 5_000 : 100_000, 0),
    // The target is 60 s: waiting longer only says by how much it was missed, which the rate already says.
    bulkTimeoutSeconds: positive(env, 'BENCH_BULK_TIMEOUT', quick ? 30 : 60),
    mysqlUrl: env.BENCH_MYSQL_URL?.trim() || 'mysql://root@127.0.0.1:3306/txedit_bench',
    engines: [...new Set(engines)] as BenchEngine[],
    // A smoke run checks the wiring, not bcrypt: cost 4 keeps failure scenarios from dominating it.
    bcryptCost: positive(env, 'BENCH_BCRYPT_COST', quick ? 4 : 12, 4),
    poolMax: positive(env, 'BENCH_POOL_MAX', 20),
    cpuProfileDir: env.BENCH_CPU_PROF?.trim() ? path.resolve(env.BENCH_CPU_PROF.trim()) : null,
    // A smoke run must not overwrite the committed results.
    output: path.resolve(
      root,
      env.BENCH_OUTPUT?.trim() ||
        (quick ? path.join(os.tmpdir(), 'txedit-bench-quick.json') : 'bench/results/latest.json'),
    ),
    keepDatabases: flag(env, 'BENCH_KEEP_DB'),
    metrics: (env.BENCH_METRICS ?? '').trim() === '' || flag(env, 'BENCH_METRICS'),
    scenarios: [...new Set(scenarios)] as Scenario[],
    serverEnv: serverEnvOf(env.BENCH_SERVER_ENV),
    bulkWorker: bulkWorkerOf(env.BENCH_BULK_WORKER),
    root,
  };
}

/** BENCH_BULK_WORKER: `server` (default) or `process`. */
function bulkWorkerOf(text: string | undefined): BenchOptions['bulkWorker'] {
  const value = text?.trim() || 'server';
  if (value !== 'server' && value !== 'process')
    throw new BenchOptionsError(`BENCH_BULK_WORKER must be server or process, not "${value}"`);
  return value;
}

/** BENCH_SERVER_ENV: `NAME=value` pairs, comma-separated, for the server under test (what is measured on it). */
function serverEnvOf(text: string | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(part);
    if (!match) throw new BenchOptionsError(`BENCH_SERVER_ENV: "${part}" is not NAME=value`);
    pairs[match[1]] = match[2];
  }
  return pairs;
}
