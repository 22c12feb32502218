import net from 'node:net';
import { floodAddress } from '../../bench/bench-data';
import { loadBenchOptions, BenchOptionsError } from '../../bench/bench-options';
import { classifyAnswer } from '../../bench/load';
import { medianByRatio, medianByServerP99, type EngineRun } from '../../bench/engine-run';
import { floodRatio } from '../../bench/targets';

// The benchmark itself runs with `npm run bench` (it needs a quiet machine); these pin what decides its figures.

describe('npm run bench: alternating floor/success pairs', () => {
  it('measures three pairs by default, one in a smoke run, BENCH_PAIRS otherwise', () => {
    expect(loadBenchOptions({}, '/repo').pairs).toBe(3);
    expect(loadBenchOptions({ BENCH_QUICK: '1' }, '/repo').pairs).toBe(1);
    expect(loadBenchOptions({ BENCH_PAIRS: '5' }, '/repo').pairs).toBe(5);
    expect(() => loadBenchOptions({ BENCH_PAIRS: '0' }, '/repo')).toThrow(BenchOptionsError);
    expect(() => loadBenchOptions({ BENCH_PAIRS: 'two' }, '/repo')).toThrow('BENCH_PAIRS must be a whole number ≥ 1');
  });

  it('passes BENCH_SERVER_ENV to the server under test, and refuses what is not NAME=value', () => {
    expect(loadBenchOptions({}, '/repo').serverEnv).toEqual({});
    expect(
      loadBenchOptions({ BENCH_SERVER_ENV: 'EDIT_COALESCING=false, SQLITE_CHECKPOINT_WORKER=off' }, '/repo').serverEnv,
    ).toEqual({ EDIT_COALESCING: 'false', SQLITE_CHECKPOINT_WORKER: 'off' });
    expect(() => loadBenchOptions({ BENCH_SERVER_ENV: 'coalescing' }, '/repo')).toThrow(
      'BENCH_SERVER_ENV: "coalescing" is not NAME=value',
    );
  });

  it('applies the bulk files in the server by default, or in a batch worker process of its own', () => {
    expect(loadBenchOptions({}, '/repo').bulkWorker).toBe('server');
    expect(loadBenchOptions({ BENCH_BULK_WORKER: ' process ' }, '/repo').bulkWorker).toBe('process');
    expect(() => loadBenchOptions({ BENCH_BULK_WORKER: 'thread' }, '/repo')).toThrow(
      'BENCH_BULK_WORKER must be server or process, not "thread"',
    );
  });

  it('runs the server with metrics on (edits per unit of work) unless BENCH_METRICS turns them off', () => {
    expect(loadBenchOptions({}, '/repo').metrics).toBe(true);
    expect(loadBenchOptions({ BENCH_METRICS: ' ' }, '/repo').metrics).toBe(true);
    expect(loadBenchOptions({ BENCH_METRICS: '1' }, '/repo').metrics).toBe(true);
    expect(loadBenchOptions({ BENCH_METRICS: '0' }, '/repo').metrics).toBe(false);
    expect(loadBenchOptions({ BENCH_METRICS: 'false' }, '/repo').metrics).toBe(false);
  });

  it('keeps the pair with the median ratio, whatever the order they ran in', () => {
    const pairs = [0.88, 0.7, 0.74].map((ratio, i) => ({ ratio, i }));
    expect(medianByRatio(pairs)).toEqual({ ratio: 0.74, i: 2 });
    expect(medianByRatio([{ ratio: 0.6 }])).toEqual({ ratio: 0.6 });
    // An even count keeps the lower of the two middle pairs: never the flattering one.
    expect(medianByRatio([0.8, 0.7, 0.9, 0.6].map((ratio) => ({ ratio })))).toEqual({ ratio: 0.7 });
    expect(() => medianByRatio([])).toThrow();
  });

  it('at 10 connections keeps the pair with the median server p99 instead (the higher middle one of an even count)', () => {
    const pairs = [23, 14, 18].map((serverP99Ms, i) => ({ serverP99Ms, i }));
    expect(medianByServerP99(pairs)).toEqual({ serverP99Ms: 18, i: 2 });
    expect(medianByServerP99([{ serverP99Ms: 30 }])).toEqual({ serverP99Ms: 30 });
    // Here the lower p99 would be the flattering one.
    expect(medianByServerP99([17, 25, 14, 21].map((serverP99Ms) => ({ serverP99Ms })))).toEqual({ serverP99Ms: 21 });
    expect(() => medianByServerP99([])).toThrow();
  });
});

describe('npm run bench: the flood ratio', () => {
  const run = (floodPairs: EngineRun['floodPairs']) =>
    ({ engine: 'mysql', rows: [], floodPairs }) as unknown as EngineRun;
  it('is the median of the alternating alone/during-a-flood pairs', () => {
    const pairs = [0.63, 0.89, 0.72].map((ratio) => ({
      order: 'alone first' as const,
      aloneReqPerSec: 1000,
      duringReqPerSec: 1000 * ratio,
      ratio,
    }));
    expect(floodRatio([run(pairs)], 'mysql')).toBe(0.72);
    expect(floodRatio([run([])], 'mysql')).toBeNull();
  });
});

describe('npm run bench: the many-address flood', () => {
  it('runs by default, with 3,000 addresses unless BENCH_FLOOD_ADDRESSES says otherwise', () => {
    expect(loadBenchOptions({}, '/repo').scenarios).toContain('flood-many');
    expect(loadBenchOptions({}, '/repo').floodAddresses).toBe(3_000);
    expect(loadBenchOptions({ BENCH_QUICK: '1' }, '/repo').floodAddresses).toBe(3_000);
    expect(loadBenchOptions({ BENCH_FLOOD_ADDRESSES: '500', BENCH_SCENARIOS: 'flood-many' }, '/repo')).toMatchObject({
      floodAddresses: 500,
      scenarios: ['flood-many'],
    });
    expect(() => loadBenchOptions({ BENCH_FLOOD_ADDRESSES: '0' }, '/repo')).toThrow(
      'BENCH_FLOOD_ADDRESSES must be a whole number ≥ 1',
    );
  });

  it('sends every request from a loopback address of its own, never the merchant’s 127.0.0.1', () => {
    const addresses = Array.from({ length: 70_000 }, (_, i) => floodAddress(i));
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const address of addresses) {
      expect(net.isIPv4(address)).toBe(true);
      expect(address.startsWith('127.')).toBe(true);
      expect(address).not.toBe('127.0.0.1');
    }
  });

  it('counts server busy as a refusal of a failing request, not as a wrong answer', () => {
    expect(
      classifyAnswer(
        '<Message>Temporary failure: server busy LinkTrust API was unable to complete the request</Message>',
      ),
    ).toBe('server_busy');
  });
});

describe('npm run bench: the impact.com API scenario', () => {
  it('runs by default and alone with BENCH_SCENARIOS=impact-api', () => {
    expect(loadBenchOptions({}, '/repo').scenarios).toContain('impact-api');
    expect(loadBenchOptions({ BENCH_SCENARIOS: 'success,impact-api' }, '/repo').scenarios).toEqual([
      'success',
      'impact-api',
    ]);
  });
});
