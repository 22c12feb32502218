import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ATTACKER_IPS,
  EditRequest,
  mixedRequest,
  SUCCESS_CAMPAIGNS,
  roundTransactionCount,
  successRequest,
  unknownTransactionRequest,
  wrongPasswordRequest,
} from './bench-data';
import type { BenchEngine, BenchOptions, Scenario } from './bench-options';
import { BulkResult, batchesRouteExists, runBulkScenario } from './bulk';
import { ChildServer, freePort, spawnBenchChild, startChildServer } from './child-server';
import { type ImpactApiDrain, impactApiBacklog, measureImpactApiDrain } from './impact-api-drain';
import { IMPACT_API_BENCH_RATE_LIMIT, runImpactApiLoad } from './impact-api-load';
import { classifyAnswer, LoadResult, startLoad } from './load';
import { ManyAddressFloodResult, runManyAddressFlood } from './many-address-flood';
import {
  findDatabaseServerPid,
  ResourceSampler,
  ResourceUsage,
  waitForQuietMachine,
  waitUntilIdle,
} from './process-stats';
import type { ResultRow } from './report';
import {
  BenchDatabase,
  createMysqlDatabase,
  createSqliteDatabase,
  inspectBenchDatabase,
  seedBenchDatabase,
} from './seed';

/** Everything measured on one engine. */
export interface EngineRun {
  engine: BenchEngine;
  transactions: number;
  seedSeconds: number;
  rows: ResultRow[];
  bulk: BulkResult | null;
  /** Why the bulk scenario did not run or did not finish, when it did not. */
  bulkSkipped: string | null;
  /** The same rows as an impact.com CSV. */
  bulkImpact: BulkResult | null;
  bulkImpactSkipped: string | null;
  /** Successful answers the clients received, and history rows the database holds, by source. */
  answeredSuccesses: number;
  history: Record<string, number>;
  databaseVersion: string | null;
  /** Every alternating floor/success pair at 50 connections (MariaDB), in the order run; the table shows the median one. */
  pairs: FloorPair[];
  /** The same at 10 connections, where the target is p99: the table shows the pair with the median server p99. */
  lowConcurrencyPairs: FloorPair[];
  /** Every alternating alone/during-a-flood pair of the success path; the flood ratio is the median one's. */
  floodPairs: FloodPair[];
  /** The flood's many-address variant (`flood-many`), when it ran. */
  manyAddressFlood: ManyAddressFloodResult | null;
  /** Why the impact.com API scenario (`impact-api`) did not run, when it did not. */
  impactApiSkipped: string | null;
  /** How the impact.com API scenario's worker got through what it queued (time to drain, per second). */
  impactApiDrain: ImpactApiDrain | null;
  /**
   * Edits per unit of work of the coalesced one-unit path from the server's start to the end of the success
   * runs (read from its /metrics, so only with BENCH_METRICS on; null otherwise). Each row has its own.
   */
  changesPerUnit: number | null;
}

/** Longest wait after the impact.com API scenario's load for its submissions to be applied. */
const DRAIN_WAIT_MS = 180_000;

/** The label of the impact.com API's rows: a modification taken in, up to its `QUEUED` answer. */
export const IMPACT_API_SCENARIO = 'impact.com API: PUT /Advertisers/:sid/Actions → QUEUED';

/**
 * The pair whose `value` is the median; of an even count, the middle one that flatters least (`lower` for
 * a ratio, where higher is better; `higher` for a latency).
 */
export function medianBy<T>(pairs: readonly T[], value: (pair: T) => number, evenCount: 'lower' | 'higher'): T {
  if (pairs.length === 0) throw new Error('a median needs at least one pair');
  const middle = (pairs.length - 1) / 2;
  return [...pairs].sort((a, b) => value(a) - value(b))[evenCount === 'lower' ? Math.floor(middle) : Math.ceil(middle)];
}

/** The pair whose ratio is the median (the lower middle one of an even count). */
export function medianByRatio<T extends { ratio: number }>(pairs: readonly T[]): T {
  return medianBy(pairs, (pair) => pair.ratio, 'lower');
}

/** One measurement of the success path alone and during a wrong-password flood, one right after the other. */
export interface FloodPair {
  order: 'alone first' | 'flood first';
  aloneReqPerSec: number;
  duringReqPerSec: number;
  ratio: number;
}

/** One measurement of the floor and of the server's success path, one right after the other. */
export interface FloorPair {
  order: 'floor first' | 'server first';
  floorReqPerSec: number;
  serverReqPerSec: number;
  ratio: number;
  floorP99Ms: number;
  serverP99Ms: number;
}

/** The pair whose server p99 is the median (of an even count, the higher middle one: never the flattering one). */
export function medianByServerP99<T extends { serverP99Ms: number }>(pairs: readonly T[]): T {
  return medianBy(pairs, (pair) => pair.serverP99Ms, 'higher');
}

/** The label of the floor's rows. */
export const FLOOR_SCENARIO = 'floor: node:http + mysql2 prepared';
/** The label of the floor sending the real server's statement list. */
export const FLOOR_FULL_SCENARIO = 'floor, server statement list';
/** The label of the real server's success-path rows. */
export const SUCCESS_SCENARIO = 'success';
/** The start of the label of each bulk upload's row (its file, rows and time follow). */
export const BULK_UPLOAD_SCENARIO = 'bulk upload';
/** The label of the success path measured during the wrong-password flood. */
export const SUCCESS_DURING_FLOOD_SCENARIO = 'success, during a wrong-password flood';

// bcrypt at cost 12 answers a wrong password in ≈ 240 ms of a core; 50 queued connections wait seconds.
const FAILURE_TIMEOUT_SECONDS = 60;

function serverEnv(
  options: BenchOptions,
  database: BenchDatabase,
  port: number,
  adminToken: string,
): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'warn',
    DEMO_DATA: 'false',
    BCRYPT_COST: String(options.bcryptCost),
    DATABASE_POOL_MAX: String(options.poolMax),
    // Failing traffic arrives "through a proxy" with other client addresses (see ATTACKER_IPS).
    TRUST_PROXY: 'loopback',
    // No scheduled processing may flip the flags the success path checks in the middle of a run.
    ROLLUP_SCHEDULE: 'off',
    NIGHTLY_SCHEDULE: 'off',
    // The impact.com API's submissions are applied by the `impact-api` scenario's own servers only.
    IMPACT_API_WORKER: 'false',
    // Metrics on: each request observes its latency and counts its answer (nobody scrapes during the run).
    ...(options.metrics ? { METRICS_TOKEN: `bench-metrics-${adminToken}` } : {}),
    // BENCH_BULK_WORKER=process: files are applied by `txedit worker` beside the server (`startBatchWorker`).
    ...(options.bulkWorker === 'process' ? { BATCH_WORKER: 'false' } : {}),
    ...options.serverEnv,
  };
}

/**
 * The node flags `npm start` gives the server (package.json's start script), so the benchmark measures
 * the server as it is started in production.
 */
export function startNodeFlags(root: string): string[] {
  const start = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts.start;
  const flags = /\bnode((?:\s+--\S+)*)\s+dist\/src\/server\.js/.exec(start);
  if (!flags) throw new Error(`package.json's start script does not run "node [flags] dist/src/server.js": ${start}`);
  return flags[1].split(/\s+/).filter(Boolean);
}

/**
 * `txedit worker --no-postbacks` in a process of its own against the bench's database, started with the
 * server's settings and node flags (BENCH_BULK_WORKER=process); `stop` ends it and answers its largest RSS
 * (MB, sampled every 100 ms).
 */
function startBatchWorker(options: BenchOptions, env: Record<string, string>): { stop: () => Promise<number> } {
  const child = spawnBenchChild({
    script: path.join(options.root, 'bin/txedit.js'),
    args: ['worker', '--no-postbacks'],
    env,
    nodeArgs: startNodeFlags(options.root),
    stdio: 'ignore',
  });
  const sampler = child.pid === undefined ? null : new ResourceSampler(child.pid, {});
  return {
    stop: async () => {
      const rssMaxMb = sampler?.stop().rssMaxMb ?? 0;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      return Math.round(rssMaxMb);
    },
  };
}

function profileArgs(options: BenchOptions, name: string): string[] {
  if (!options.cpuProfileDir) return [];
  const dir = path.join(options.cpuProfileDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

/** The scenarios of one engine against its running server (and, on MariaDB, the floor). */
class EngineBench {
  readonly rows: ResultRow[] = [];
  answeredSuccesses = 0;
  private readonly databasePid: number | null;

  constructor(
    private readonly engine: BenchEngine,
    private readonly options: BenchOptions,
    private readonly transactions: number,
    private readonly server: ChildServer,
    private readonly log: (line: string) => void,
    /** The SQLite database's WAL file, whose size each run samples (null on MariaDB). */
    private readonly walFile: string | null = null,
    /** The server's METRICS_TOKEN (BENCH_METRICS), to read its units of work around each run; null: off. */
    private readonly metricsToken: string | null = null,
  ) {
    this.databasePid = engine === 'mysql' ? findDatabaseServerPid() : null;
  }

  private async settle(target: ChildServer): Promise<ResourceSampler> {
    await waitUntilIdle(target.pid);
    const busy = await waitForQuietMachine(os.availableParallelism(), this.options.quietWaitSeconds * 1000);
    if (busy > 0.25) this.log(`  (machine busy with other work: ${(busy * 100).toFixed(0)} % of the cores)`);
    return new ResourceSampler(
      target.pid,
      { server: target.pid, database: this.databasePid },
      target === this.server ? this.walFile : null,
    );
  }

  private row(scenario: string, load: LoadResult, usage: ResourceUsage, ownsUsage = true): ResultRow {
    const perRequest = (seconds: number | null | undefined) =>
      ownsUsage && seconds != null && load.responses > 0 ? (seconds * 1e6) / load.responses : null;
    return {
      scenario,
      engine: this.engine,
      connections: load.connections,
      reqPerSec: load.reqPerSec,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      errors: load.errors,
      rssMaxMb: usage.rssMaxMb,
      ratioToFloor: null,
      serverCpuUsPerRequest: perRequest(usage.cpuSeconds.server),
      databaseCpuUsPerRequest: perRequest(usage.cpuSeconds.database),
      load,
      usage,
    };
  }

  private report(scenario: string, load: LoadResult, usage: ResourceUsage, perUnit: number | null = null): void {
    const answers = Object.entries(load.answers)
      .map(([answer, count]) => `${answer} ${count}`)
      .join(', ');
    this.log(
      `${this.engine}: ${scenario} @${load.connections}: ${load.reqPerSec.toFixed(0)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, ` +
        `errors ${load.errors} (${answers}); other work on the machine: ${(usage.otherCpuSeconds / usage.wallSeconds).toFixed(2)} cores` +
        (usage.walMaxMb === null ? '' : `; WAL at most ${usage.walMaxMb.toFixed(1)} MB`) +
        (perUnit === null ? '' : `; ${perUnit.toFixed(1)} edits per unit of work`),
    );
    for (const sample of load.wrongAnswerSamples) this.log(`  unexpected answer: ${sample.replace(/\n/g, ' ')}`);
  }

  /**
   * Unmeasured load: JIT, connection pools, prepared statements — and, first, one edit per campaign, one
   * at a time, so the verified-credential cache holds every campaign before 50 connections arrive (a
   * cold cache has every concurrent request of a campaign pay its own bcrypt compare).
   */
  async warmUp(target: ChildServer): Promise<void> {
    if (target === this.server) {
      for (const campaign of SUCCESS_CAMPAIGNS) {
        const response = await fetch(`${target.baseUrl}${successRequest(this.transactions, [campaign]).path}`);
        if (classifyAnswer(await response.text()) === 'succeeded') this.answeredSuccesses++;
      }
    }
    const load = await startLoad({
      baseUrl: target.baseUrl,
      connections: 50,
      durationSeconds: this.options.warmupSeconds,
      next: () => successRequest(this.transactions),
    }).result;
    if (target === this.server) this.answeredSuccesses += load.answers.succeeded ?? 0;
  }

  /** One measured autocannon run, as a row of the table. */
  async measure(
    target: ChildServer,
    scenario: string,
    connections: number,
    next: () => EditRequest,
    timeoutSeconds = 10,
  ): Promise<ResultRow> {
    const sampler = await this.settle(target);
    const token = target === this.server ? this.metricsToken : null;
    const unitsBefore = token ? await unitCounters(target.baseUrl, token) : null;
    const load = await startLoad({
      baseUrl: target.baseUrl,
      connections,
      durationSeconds: this.options.durationSeconds,
      next,
      timeoutSeconds,
    }).result;
    const usage = sampler.stop();
    const unitsAfter = token ? await unitCounters(target.baseUrl, token) : null;
    if (target === this.server) this.answeredSuccesses += load.answers.succeeded ?? 0;
    const row = this.row(scenario, load, usage);
    row.editsPerUnit = unitsBefore && unitsAfter ? editsPerUnit(unitsBefore, unitsAfter) : null;
    this.report(scenario, load, usage, row.editsPerUnit);
    return row;
  }

  /** One measured autocannon run, into the table. */
  async drive(
    target: ChildServer,
    scenario: string,
    connections: number,
    next: () => EditRequest,
    timeoutSeconds = 10,
  ): Promise<void> {
    this.rows.push(await this.measure(target, scenario, connections, next, timeoutSeconds));
  }

  /**
   * Measures `base` (the denominator) and `other` `count` times, one right after the other, the order
   * swapping each time (base first, other first, …) so that a machine speeding up or slowing down favours
   * neither. `other` returns its rows for the table, the measured one first. Puts the median pair's rows
   * in the table (`other`'s, and the base's when `tableKeepsBase`), logs every ratio, and returns the pairs.
   * The median is by ratio, or (`byP99`, floor pairs) by the p99 of `other`'s measured row, for a latency target.
   */
  private async alternating(
    what: string,
    count: number,
    tableKeepsBase: boolean,
    base: (i: number) => Promise<ResultRow>,
    other: (i: number) => Promise<[ResultRow, ...ResultRow[]]>,
    byP99 = false,
  ): Promise<
    Array<{ baseFirst: boolean; base: number; other: number; ratio: number; baseP99Ms: number; otherP99Ms: number }>
  > {
    const measured: Array<{
      baseFirst: boolean;
      base: number;
      other: number;
      ratio: number;
      baseP99Ms: number;
      otherP99Ms: number;
      rows: ResultRow[];
    }> = [];
    for (let i = 0; i < count; i++) {
      const baseFirst = i % 2 === 0;
      const first = baseFirst ? await base(i) : null;
      const rows = await other(i);
      const denominator = first ?? (await base(i));
      const ratio = denominator.reqPerSec > 0 ? rows[0].reqPerSec / denominator.reqPerSec : 0;
      measured.push({
        baseFirst,
        base: denominator.reqPerSec,
        other: rows[0].reqPerSec,
        ratio,
        baseP99Ms: denominator.p99Ms,
        otherP99Ms: rows[0].p99Ms,
        rows: tableKeepsBase ? [denominator, ...rows] : rows,
      });
    }
    const median = byP99 ? medianBy(measured, (pair) => pair.otherP99Ms, 'higher') : medianByRatio(measured);
    this.rows.push(...median.rows);
    const ratios = measured.map((pair) => pair.ratio.toFixed(2)).join(', ');
    const p99s = byP99
      ? `; p99 ${measured.map((pair) => `${pair.otherP99Ms} ms (floor ${pair.baseP99Ms})`).join(', ')}`
      : '';
    const kept = byP99
      ? `the pair with the median p99 (${median.otherP99Ms} ms)`
      : `the median pair (${median.ratio.toFixed(2)})`;
    this.log(
      `${this.engine}: ${what} over ${count} alternating pair${count === 1 ? '' : 's'}: ${ratios}${p99s}${count > 1 ? ` — the table keeps ${kept}` : ''}`,
    );
    return measured.map(({ rows: _rows, ...pair }) => pair);
  }

  /**
   * The floor and the success path in alternating pairs (the floor's row and the server's go in the
   * table: the median pair's by ratio, or by the server's p99 with `byP99`).
   */
  async pairs(
    floor: ChildServer,
    connections: number,
    count: number,
    next: () => EditRequest,
    byP99 = false,
  ): Promise<FloorPair[]> {
    const pairs = await this.alternating(
      `success @${connections} ÷ floor`,
      count,
      true,
      () => this.measure(floor, FLOOR_SCENARIO, connections, next),
      async () => [await this.measure(this.server, SUCCESS_SCENARIO, connections, next)],
      byP99,
    );
    return pairs.map((pair) => ({
      order: pair.baseFirst ? 'floor first' : 'server first',
      floorReqPerSec: pair.base,
      serverReqPerSec: pair.other,
      ratio: pair.ratio,
      floorP99Ms: pair.baseP99Ms,
      serverP99Ms: pair.otherP99Ms,
    }));
  }

  /**
   * The success path on campaigns 1–8 and a wrong-password flood on campaign 9 from `attacker`, at once;
   * returns the rows of both (not yet in the table).
   */
  private async floodOnce(attacker: string): Promise<{ during: ResultRow; flood: ResultRow }> {
    const sampler = await this.settle(this.server);
    const base = { baseUrl: this.server.baseUrl, connections: 50, durationSeconds: this.options.durationSeconds };
    const flood = startLoad({
      ...base,
      next: () => wrongPasswordRequest(this.transactions, attacker),
      timeoutSeconds: FAILURE_TIMEOUT_SECONDS,
    });
    const edits = startLoad({ ...base, next: () => successRequest(this.transactions) });
    const [floodLoad, editLoad] = await Promise.all([flood.result, edits.result]);
    const usage = sampler.stop();
    this.answeredSuccesses += editLoad.answers.succeeded ?? 0;
    this.report(SUCCESS_DURING_FLOOD_SCENARIO, editLoad, usage);
    this.report('wrong-password flood (at once)', floodLoad, usage);
    return {
      during: this.row(SUCCESS_DURING_FLOOD_SCENARIO, editLoad, usage, false),
      flood: this.row('wrong-password flood (at once)', floodLoad, usage, false),
    };
  }

  /**
   * The flood target's ratio, measured as the floor's is: the success path alone and during a flood in
   * alternating pairs. Each flood comes from an address of its own, so each pays the compares a new
   * attacker costs before its limit bites (the flood campaign's own counter carries over, as it would).
   * The table gets the median pair's two flood rows.
   */
  async floodPairs(count: number): Promise<FloodPair[]> {
    const pairs = await this.alternating(
      'success during a flood ÷ alone',
      count,
      false,
      () => this.measure(this.server, SUCCESS_SCENARIO, 50, () => successRequest(this.transactions)),
      async (i) => {
        const { during, flood } = await this.floodOnce(i === 0 ? ATTACKER_IPS.flood : `203.0.113.${100 + i}`);
        return [during, flood];
      },
    );
    return pairs.map((pair) => ({
      order: pair.baseFirst ? 'alone first' : 'flood first',
      aloneReqPerSec: pair.base,
      duringReqPerSec: pair.other,
      ratio: pair.ratio,
    }));
  }

  /**
   * The flood's many-address variant, against `own` (a server of its own, stopped by the caller): the
   * honest merchant's edits and the flood go in the table, the merchant's first check in its row's note.
   */
  async manyAddressFlood(own: ChildServer, adminToken: string): Promise<ManyAddressFloodResult> {
    const sampler = await this.settle(own);
    const result = await runManyAddressFlood({
      server: own,
      adminToken,
      transactions: this.transactions,
      addresses: this.options.floodAddresses,
      durationSeconds: this.options.durationSeconds,
    });
    const usage = sampler.stop();
    // The warm-up edit and the first checks that passed are successes in the history too.
    const passed = result.firstChecks.filter((check) => check.answer === 'succeeded').length;
    this.answeredSuccesses += 1 + passed + (result.merchant.answers.succeeded ?? 0);
    const merchant = `honest merchant during a ${result.addresses.toLocaleString('en-US')}-address flood`;
    const flood = `many-address flood: ${result.addresses.toLocaleString('en-US')} addresses × 1 wrong password (at once)`;
    this.report(merchant, result.merchant, usage);
    this.report(flood, result.flood, usage);
    const checks = result.firstChecks
      .map((check) => `campaign ${check.campaign}: ${check.ms.toFixed(0)} ms ${check.answer}`)
      .join(', ');
    this.log(`${this.engine}: the honest merchant's first checks during the many-address flood: ${checks}`);
    const ms = result.firstChecks.map((check) => check.ms).sort((a, b) => a - b);
    const note = `first checks: ${passed} of ${ms.length} passed, median ${ms[Math.floor((ms.length - 1) / 2)].toFixed(0)} ms, max ${ms[ms.length - 1].toFixed(0)} ms`;
    this.rows.push(
      { ...this.row(merchant, result.merchant, usage, false), note },
      this.row(flood, result.flood, usage, false),
    );
    return result;
  }

  /**
   * The impact.com API's intake against `own` (a server of its own, whose hourly call limit is out of the
   * way): PUT → QUEUED at 10 connections, beside the success path's row at 10. Returns why it did not run.
   */
  async impactApi(
    own: ChildServer,
    adminToken: string,
    database: BenchDatabase,
    startDrainer: (() => Promise<ChildServer>) | null,
  ): Promise<{ skipped: string | null; drain: ImpactApiDrain | null }> {
    const sampler = await this.settle(own);
    const measured = await runImpactApiLoad({
      baseUrl: own.baseUrl,
      adminToken,
      transactions: this.transactions,
      connections: 10,
      durationSeconds: this.options.durationSeconds,
    });
    const loadEndedAt = Date.now();
    const usage = sampler.stop();
    if (measured.load === null) return { skipped: measured.skipped, drain: null };
    this.report(IMPACT_API_SCENARIO, measured.load, usage);
    this.rows.push(this.row(IMPACT_API_SCENARIO, measured.load, usage));
    // The worker applies them meanwhile and after: how long until none is left, and how many per second.
    // Without a worker in `own` (BENCH_IMPACT_API_WORKER=false), a server of its own drains the backlog.
    let drain: ImpactApiDrain;
    if (startDrainer) {
      const backlog = await impactApiBacklog(database.config);
      const startedAt = Date.now();
      const drainer = await startDrainer();
      try {
        drain = await measureImpactApiDrain(database.config, startedAt, DRAIN_WAIT_MS, backlog);
      } finally {
        await drainer.stop();
      }
    } else drain = await measureImpactApiDrain(database.config, loadEndedAt, DRAIN_WAIT_MS);
    const codes = Object.entries(drain.codes)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    this.log(
      `${this.engine}: impact.com API worker: ${drain.submissions} submissions, ${drain.backlogAtLoadEnd} waiting at the load's end, ` +
        `drained ${drain.drainSeconds === null ? 'NOT within the wait' : `${drain.drainSeconds.toFixed(1)} s after ${startDrainer ? 'its worker started' : 'it'}`}, ` +
        `${drain.completedPerSecond.toFixed(0)} complete/s from the first stored, ${drain.workerPerSecond.toFixed(0)} from the first complete (${codes}); ` +
        `≥${drain.units} units of work, ${drain.appliedPerUnit?.toFixed(1) ?? '-'} applied per unit`,
    );
    return { skipped: null, drain };
  }

  /** The bulk upload with edits at 10 connections meanwhile; returns why it did not run or finish, or null. */
  async bulk(
    adminToken: string,
    kind: 'lead-poster' | 'impact' = 'lead-poster',
  ): Promise<{ result: BulkResult | null; skipped: string | null }> {
    const { engine, options, server } = this;
    if (engine !== 'mysql') return { result: null, skipped: 'the bulk target is set on MariaDB; not run on SQLite' };
    if (!(await batchesRouteExists(server.baseUrl, adminToken))) {
      return { result: null, skipped: 'POST /api/v1/batches does not exist yet (bulk modifications not landed)' };
    }
    const what = kind === 'impact' ? 'impact.com CSV' : 'Lead Poster file';
    this.log(`${engine}: bulk upload of a ${options.bulkRows.toLocaleString('en-US')}-row ${what} …`);
    const sampler = await this.settle(server);
    let result: BulkResult;
    try {
      result = await runBulkScenario({
        baseUrl: server.baseUrl,
        adminToken,
        transactions: this.transactions,
        rows: options.bulkRows,
        timeoutSeconds: options.bulkTimeoutSeconds,
        kind,
      });
    } catch (error) {
      sampler.stop();
      // The bulk path may be work in progress: report its failure, keep every other figure.
      this.log(`${engine}: server output (last lines):\n${server.output().split('\n').slice(-10).join('\n')}`);
      return { result: null, skipped: `failed: ${(error as Error).message.slice(0, 300)}` };
    }
    const usage = sampler.stop();
    this.answeredSuccesses += result.concurrentEdits.answers.succeeded ?? 0;
    this.rows.push({
      scenario:
        result.state === 'completed'
          ? `${BULK_UPLOAD_SCENARIO} (${what}) of ${result.rows.toLocaleString('en-US')} rows: completed in ${result.seconds.toFixed(1)} s (rows/s)`
          : `${BULK_UPLOAD_SCENARIO} (${what}) of ${result.rows.toLocaleString('en-US')} rows: ${result.processed.toLocaleString('en-US')} done after ${result.seconds.toFixed(0)} s, ${result.state} (rows/s)`,
      engine,
      connections: 0,
      reqPerSec: result.rowsPerSec,
      p50Ms: NaN,
      p99Ms: NaN,
      errors: result.failed ?? 0,
      rssMaxMb: usage.rssMaxMb,
      ratioToFloor: null,
      serverCpuUsPerRequest: null,
      databaseCpuUsPerRequest: null,
      usage,
    });
    this.rows.push(this.row(`success, while the bulk upload (${what}) runs`, result.concurrentEdits, usage, false));
    this.log(
      `${engine}: bulk ${result.state} in ${result.seconds.toFixed(1)} s; edits meanwhile p99 ${result.concurrentEdits.p99Ms} ms`,
    );
    return {
      result,
      skipped: result.state === 'completed' ? null : `did not complete within ${options.bulkTimeoutSeconds} s`,
    };
  }
}

function serverStatementsRequest(transactions: number): EditRequest {
  const request = successRequest(transactions);
  return { ...request, path: `/server-statements${request.path}` };
}

/** Runs every selected scenario against the real server (and, on MariaDB, the floor) on one engine. */
export async function runEngine(
  engine: BenchEngine,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<EngineRun> {
  const transactions = roundTransactionCount(options.transactions);
  const wanted = (scenario: Scenario) => options.scenarios.includes(scenario);
  const database = engine === 'mysql' ? await createMysqlDatabase(options.mysqlUrl) : createSqliteDatabase();
  const children: ChildServer[] = [];
  try {
    log(
      `${engine}: seeding ${transactions.toLocaleString('en-US')} transactions (bcrypt cost ${options.bcryptCost}) …`,
    );
    const seedSeconds = (await seedBenchDatabase(database.config, transactions, options.bcryptCost)) / 1000;
    log(`${engine}: seeded in ${seedSeconds.toFixed(1)} s`);

    const adminToken = crypto.randomBytes(24).toString('hex');
    const serverPort = await freePort();
    const server = await startChildServer({
      name: `txedit (${engine})`,
      script: path.join(options.root, 'dist/src/server.js'),
      port: serverPort,
      env: serverEnv(options, database, serverPort, adminToken),
      nodeArgs: [...startNodeFlags(options.root), ...profileArgs(options, `server-${engine}`)],
    });
    children.push(server);
    let floor: ChildServer | null = null;
    if (engine === 'mysql') {
      const floorPort = await freePort();
      floor = await startChildServer({
        name: 'floor',
        script: path.join(options.root, 'dist/bench/floor-server.js'),
        port: floorPort,
        env: { FLOOR_PORT: String(floorPort), FLOOR_MYSQL_URL: database.url, FLOOR_POOL_MAX: String(options.poolMax) },
        nodeArgs: profileArgs(options, 'floor'),
      });
      children.push(floor);
    }

    const walFile = database.config.client === 'sqlite' ? `${database.config.filename}-wal` : null;
    const metricsToken = options.metrics ? `bench-metrics-${adminToken}` : null;
    const bench = new EngineBench(engine, options, transactions, server, log, walFile, metricsToken);
    const success = () => successRequest(transactions);
    await bench.warmUp(server);
    if (floor) await bench.warmUp(floor);
    // Floor and server alternate, so the drift of a shared machine hits both alike, several times in
    // swapping order: at 50 connections for the throughput target (median ratio), at 10 for the p99
    // target (median p99 of the server).
    let pairs: FloorPair[] = [];
    let lowConcurrencyPairs: FloorPair[] = [];
    for (const connections of [50, 10]) {
      const serverToo = wanted('success') || (wanted('flood') && connections === 50);
      if (floor && serverToo) {
        const measured = await bench.pairs(floor, connections, options.pairs, success, connections === 10);
        if (connections === 50) pairs = measured;
        else lowConcurrencyPairs = measured;
      } else {
        if (floor) await bench.drive(floor, FLOOR_SCENARIO, connections, success);
        if (serverToo) await bench.drive(server, SUCCESS_SCENARIO, connections, success);
      }
      if (floor && wanted('floor-full'))
        await bench.drive(floor, FLOOR_FULL_SCENARIO, connections, () => serverStatementsRequest(transactions));
    }
    // The latency ladder: one client alone (the coalescing must cost it nothing) and 200 at once.
    if (wanted('success'))
      for (const connections of [1, 200]) await bench.drive(server, SUCCESS_SCENARIO, connections, success);
    const counters = metricsToken ? await unitCounters(server.baseUrl, metricsToken) : null;
    const changesPerUnit = counters ? editsPerUnit({ units: 0, changes: 0 }, counters) : null;
    if (changesPerUnit !== null)
      log(`${engine}: success path: ${changesPerUnit.toFixed(1)} edits per unit of work (COMMIT)`);
    const floodPairs = wanted('flood') ? await bench.floodPairs(options.pairs) : [];
    let manyAddressFlood: ManyAddressFloodResult | null = null;
    if (wanted('flood-many')) {
      // A server of its own: the compares the flood left queued end with it, not in the next scenario.
      const port = await freePort();
      const own = await startChildServer({
        name: `txedit (${engine}, many-address flood)`,
        script: path.join(options.root, 'dist/src/server.js'),
        port,
        env: serverEnv(options, database, port, adminToken),
        nodeArgs: startNodeFlags(options.root),
      });
      try {
        manyAddressFlood = await bench.manyAddressFlood(own, adminToken);
      } finally {
        await own.stop('SIGKILL');
      }
    }
    if (wanted('wrong-password'))
      await bench.drive(
        server,
        'wrong password',
        50,
        () => wrongPasswordRequest(transactions, ATTACKER_IPS.wrongPassword),
        FAILURE_TIMEOUT_SECONDS,
      );
    if (wanted('unknown'))
      await bench.drive(
        server,
        'unknown transaction',
        50,
        () => unknownTransactionRequest(transactions, ATTACKER_IPS.unknown),
        FAILURE_TIMEOUT_SECONDS,
      );
    if (wanted('mixed'))
      await bench.drive(server, 'mixed 90/5/5', 50, () => mixedRequest(transactions), FAILURE_TIMEOUT_SECONDS);
    const batchWorker =
      options.bulkWorker === 'process' && engine === 'mysql' && (wanted('bulk') || wanted('bulk-impact'))
        ? startBatchWorker(options, serverEnv(options, database, serverPort, adminToken))
        : null;
    let bulk: Awaited<ReturnType<EngineBench['bulk']>>;
    let bulkImpact: typeof bulk;
    try {
      bulk =
        wanted('bulk') && options.bulkRows > 0
          ? await bench.bulk(adminToken)
          : { result: null, skipped: 'not selected' };
      if (bulk.skipped) log(`${engine}: bulk scenario: ${bulk.skipped}`);
      // The same rows as an impact.com file, after the Lead Poster file (they change the same transactions).
      bulkImpact =
        wanted('bulk-impact') && options.bulkRows > 0
          ? await bench.bulk(adminToken, 'impact')
          : { result: null, skipped: 'not selected' };
      if (bulkImpact.skipped) log(`${engine}: impact.com bulk scenario: ${bulkImpact.skipped}`);
    } finally {
      if (batchWorker) log(`${engine}: the batch worker's own process: RSS at most ${await batchWorker.stop()} MB`);
    }
    let impactApiSkipped: string | null = 'not selected';
    let impactApiDrain: ImpactApiDrain | null = null;
    if (wanted('impact-api')) {
      const port = await freePort();
      const workerInOwn = process.env.BENCH_IMPACT_API_WORKER ?? 'true';
      const startDrainer =
        workerInOwn === 'false'
          ? async () => {
              const drainerPort = await freePort();
              return startChildServer({
                name: `txedit (${engine}, impact.com API worker)`,
                script: path.join(options.root, 'dist/src/server.js'),
                port: drainerPort,
                env: { ...serverEnv(options, database, drainerPort, adminToken), IMPACT_API_WORKER: 'true' },
                nodeArgs: startNodeFlags(options.root),
              });
            }
          : null;
      const own = await startChildServer({
        name: `txedit (${engine}, impact.com API)`,
        script: path.join(options.root, 'dist/src/server.js'),
        port,
        env: {
          ...serverEnv(options, database, port, adminToken),
          IMPACT_API_RATE_LIMIT_PER_HOUR: IMPACT_API_BENCH_RATE_LIMIT,
          IMPACT_API_WORKER: workerInOwn,
        },
        nodeArgs: [...startNodeFlags(options.root), ...profileArgs(options, `server-${engine}-impact-api`)],
      });
      try {
        ({ skipped: impactApiSkipped, drain: impactApiDrain } = await bench.impactApi(
          own,
          adminToken,
          database,
          startDrainer,
        ));
      } catch (error) {
        impactApiSkipped = `failed: ${(error as Error).message.slice(0, 300)}`;
      } finally {
        await own.stop();
      }
      if (impactApiSkipped) log(`${engine}: impact.com API scenario: ${impactApiSkipped}`);
    }

    for (const child of children.splice(0)) await child.stop();
    const inspected = await inspectBenchDatabase(database.config);
    return {
      engine,
      transactions,
      seedSeconds,
      rows: bench.rows,
      bulk: bulk.result,
      bulkSkipped: bulk.skipped,
      bulkImpact: bulkImpact.result,
      bulkImpactSkipped: bulkImpact.skipped,
      answeredSuccesses: bench.answeredSuccesses,
      history: inspected.history,
      databaseVersion: inspected.version,
      pairs,
      lowConcurrencyPairs,
      floodPairs,
      manyAddressFlood,
      impactApiSkipped,
      impactApiDrain,
      changesPerUnit,
    };
  } finally {
    for (const child of children) await child.stop().catch(() => undefined);
    if (!options.keepDatabases)
      await database
        .drop()
        .catch((error) => log(`${engine}: could not drop the database: ${(error as Error).message}`));
  }
}

/** The one-unit path's units of work and the edits they applied so far, from the server's Prometheus counters. */
async function unitCounters(baseUrl: string, metricsToken: string): Promise<{ units: number; changes: number } | null> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  if (!response.ok) return null;
  const text = await response.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const counters = { units: value('txedit_edit_units_total'), changes: value('txedit_edit_unit_changes_total') };
  return Number.isFinite(counters.units) && Number.isFinite(counters.changes) ? counters : null;
}

/** Edits per unit of work between two readings of the counters (null when no unit committed between them). */
function editsPerUnit(
  before: { units: number; changes: number },
  after: { units: number; changes: number },
): number | null {
  const units = after.units - before.units;
  return units > 0 ? (after.changes - before.changes) / units : null;
}
