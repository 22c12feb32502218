import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchEngine } from './bench-options';
import type { LoadResult } from './load';
import type { ResourceUsage } from './process-stats';

/** One line of the results table. */
export interface ResultRow {
  scenario: string;
  engine: BenchEngine;
  connections: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  rssMaxMb: number | null;
  /** reqPerSec ÷ the floor's reqPerSec at the same connection count (MariaDB floor for both engines). */
  ratioToFloor: number | null;
  /** Server and database CPU per response, µs (how much of the 2 cores one edit costs). */
  serverCpuUsPerRequest: number | null;
  databaseCpuUsPerRequest: number | null;
  /** Edits per unit of work (COMMIT) of the one-unit path during the row's run (BENCH_METRICS; null: not read). */
  editsPerUnit?: number | null;
  note?: string;
  load?: LoadResult;
  usage?: ResourceUsage;
}

/** A speed target (README, Benchmarks) and whether this run met it. */
export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | null;
}

/** The machine the figures come from. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  mariadb: string | null;
  platform: string;
  /** 1-minute load average when the run started: other work on a shared machine skews every figure. */
  loadAverageAtStart: number;
}

/** Describes this machine; `mariadb` is the server's version() when MariaDB ran. */
export function machineInfo(mariadb: string | null, loadAverageAtStart: number): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mariadb,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart,
  };
}

const fixed = (value: number | null, digits: number) =>
  value === null || !Number.isFinite(value) ? '–' : value.toFixed(digits);

/** The table as Markdown (printed by the run and pasted into the README). */
export function formatTable(rows: ResultRow[]): string {
  const header = [
    'scenario',
    'engine',
    'conn',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS max MB',
    '× floor',
    'edits/unit',
    'server CPU µs/req',
    'DB CPU µs/req',
    'other load (cores)',
  ];
  const lines = rows.map((row) => [
    row.scenario + (row.note ? ` (${row.note})` : ''),
    row.engine === 'mysql' ? 'MariaDB' : 'SQLite',
    String(row.connections),
    fixed(row.reqPerSec, 0),
    fixed(row.p50Ms, 1),
    fixed(row.p99Ms, 1),
    String(row.errors),
    fixed(row.rssMaxMb, 0),
    fixed(row.ratioToFloor, 2),
    fixed(row.editsPerUnit ?? null, 1),
    fixed(row.serverCpuUsPerRequest, 0),
    fixed(row.databaseCpuUsPerRequest, 0),
    fixed(row.usage ? row.usage.otherCpuSeconds / row.usage.wallSeconds : null, 2),
  ]);
  const numeric = header.map((_, i) => i >= 2);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)));
  const cell = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`,
    ...lines.map((line) => `| ${line.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The targets as Markdown bullets. */
export function formatTargets(verdicts: TargetVerdict[]): string {
  return verdicts
    .map((v) => `- ${v.met === null ? 'NOT MEASURED' : v.met ? 'met' : 'MISSED'}: ${v.target} — ${v.measured}`)
    .join('\n');
}

/** Writes the results JSON (pretty, stable key order as built). */
export function writeResults(file: string, results: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
