import { IMPACT_API_SCENARIO, SUCCESS_SCENARIO, type EngineRun } from '../../bench/engine-run';
import type { ResultRow } from '../../bench/report';
import { judgeTargets } from '../../bench/targets';

const row = (scenario: string, p50Ms: number, p99Ms: number, errors = 0) =>
  ({ scenario, engine: 'mysql', connections: 10, reqPerSec: 400, p50Ms, p99Ms, errors }) as ResultRow;
const run = (rows: ResultRow[], impactApiSkipped: string | null = null) =>
  ({ engine: 'mysql', rows, lowConcurrencyPairs: [], floodPairs: [], impactApiSkipped }) as unknown as EngineRun;
const verdict = (runs: EngineRun[]) => judgeTargets(runs).find((v) => v.target.startsWith('impact.com API'));

describe('npm run bench: the impact.com API intake target', () => {
  it('is met within 10 × the success path’s p50 and p99 at 10 connections, with no errors', () => {
    expect(verdict([run([row(SUCCESS_SCENARIO, 5, 20), row(IMPACT_API_SCENARIO, 17, 157)])])).toMatchObject({
      met: true,
      measured: 'p50 17 ms / p99 157 ms vs success p50 5 ms / p99 20 ms (400 req/s, 0 errors)',
    });
  });

  it('is missed beyond 10 × or with errors, and not measured without both rows', () => {
    expect(verdict([run([row(SUCCESS_SCENARIO, 2, 8), row(IMPACT_API_SCENARIO, 21, 70)])])?.met).toBe(false);
    expect(verdict([run([row(SUCCESS_SCENARIO, 5, 20), row(IMPACT_API_SCENARIO, 6, 30, 3)])])?.met).toBe(false);
    expect(verdict([run([row(SUCCESS_SCENARIO, 5, 20)], 'not selected')])).toMatchObject({
      met: null,
      measured: 'not run (not selected)',
    });
  });
});
