import { FLOOR_SCENARIO, SUCCESS_SCENARIO, type EngineRun } from '../../bench/engine-run';
import type { BulkResult } from '../../bench/bulk';
import type { ResultRow } from '../../bench/report';
import { judgeTargets } from '../../bench/targets';

const row = (scenario: string, connections: number, reqPerSec: number, p99Ms: number, rssMaxMb = 150) =>
  ({ scenario, engine: 'mysql', connections, reqPerSec, p50Ms: 2, p99Ms, errors: 0, rssMaxMb }) as ResultRow;
const bulk = (seconds: number, p99Ms: number) =>
  ({
    rows: 100_000,
    seconds,
    rowsPerSec: 100_000 / seconds,
    state: 'completed',
    concurrentEdits: { p99Ms },
  }) as BulkResult;
const run = (rows: ResultRow[], extra: Partial<EngineRun> = {}) =>
  ({ engine: 'mysql', rows, lowConcurrencyPairs: [], floodPairs: [], ...extra }) as unknown as EngineRun;
const verdicts = (runs: EngineRun[]) =>
  Object.fromEntries(
    judgeTargets(runs)
      .filter((v) => v.target.startsWith('Coalescing'))
      .map((v) => [v.target, v.met]),
  );

describe('npm run bench: issue 22’s coalescing targets', () => {
  const fast = [
    row(FLOOR_SCENARIO, 50, 5000, 18),
    row(SUCCESS_SCENARIO, 50, 6100, 15),
    row(SUCCESS_SCENARIO, 10, 3300, 12),
  ];
  const bulkRows = (rss: number) => [row('bulk upload (Lead Poster file) of 100,000 rows', 0, 6000, NaN, rss)];

  it('is met at 1.2 × the floor, p99 12 ms at 10 connections, files in 20 s with edits p99 50 ms and RSS 200 MB', () => {
    const result = verdicts([run([...fast, ...bulkRows(200)], { bulk: bulk(20, 50), bulkImpact: bulk(19, 40) })]);
    expect(Object.values(result)).toEqual([true, true, true, true, true]);
  });

  it('is missed just past each line, and not measured without the rows', () => {
    const slow = [
      row(FLOOR_SCENARIO, 50, 5000, 18),
      row(SUCCESS_SCENARIO, 50, 5990, 15),
      row(SUCCESS_SCENARIO, 10, 3300, 13),
    ];
    const result = verdicts([run([...slow, ...bulkRows(201)], { bulk: bulk(20.1, 30), bulkImpact: bulk(15, 51) })]);
    expect(Object.values(result)).toEqual([false, false, false, false, false]);
    expect(Object.values(verdicts([run([])]))).toEqual([null, null, null, null, null]);
  });
});
