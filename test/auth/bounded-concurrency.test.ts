import { BoundedConcurrency, QueueFullError } from '../../src/auth/bounded-concurrency';

/** A task that runs until `finish()` is called, advancing the test clock by `ms` when it ends. */
function task(clock: { now: number }, ms: number) {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const record = { started: false, finish: () => finish() };
  const run = async () => {
    record.started = true;
    await done;
    clock.now += ms;
    return ms;
  };
  return { record, run };
}

/** A gate of one slot with a share, on fake timers, and the test clock its tasks advance. */
function pacedGate(share: number) {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] });
  const clock = { now: 0 };
  return { clock, gate: new BoundedConcurrency(1, 10, { share, clock: () => clock.now }) };
}

const turn = () =>
  new Promise((resolve) => jest.requireActual<typeof import('timers')>('timers').setImmediate(resolve));

describe('BoundedConcurrency', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most `limit` tasks at once, queues `maxQueue` more and refuses the rest', async () => {
    const clock = { now: 0 };
    const gate = new BoundedConcurrency(1, 1, { clock: () => clock.now });
    const first = task(clock, 10);
    const second = task(clock, 10);
    const running = [gate.run(first.run), gate.run(second.run)];
    await turn();
    expect([first.record.started, second.record.started]).toEqual([true, false]);
    await expect(gate.run(task(clock, 1).run)).rejects.toBeInstanceOf(QueueFullError);
    first.record.finish();
    await turn();
    expect(second.record.started).toBe(true);
    second.record.finish();
    expect(await Promise.all(running)).toEqual([10, 10]);
  });

  it('with a share, answers at once but rests the slot t × (1 / share − 1) before the next task', async () => {
    const { clock, gate } = pacedGate(0.25);
    const first = task(clock, 100);
    const second = task(clock, 100);
    const answered = gate.run(first.run);
    const queued = gate.run(second.run);
    await turn();
    first.record.finish();
    expect(await answered).toBe(100); // the caller does not wait for the rest
    await turn();
    expect(second.record.started).toBe(false);
    jest.advanceTimersByTime(299);
    await turn();
    expect(second.record.started).toBe(false);
    jest.advanceTimersByTime(1);
    await turn();
    expect(second.record.started).toBe(true);
    second.record.finish();
    expect(await queued).toBe(100);
  });

  it('rests after a task that failed too, and frees the slot when nothing waits', async () => {
    const { clock, gate } = pacedGate(0.5);
    await expect(
      gate.run(async () => {
        clock.now += 40;
        throw new Error('compare failed');
      }),
    ).rejects.toThrow('compare failed');
    const next = task(clock, 5);
    const waiting = gate.run(next.run);
    await turn();
    expect(next.record.started).toBe(false);
    jest.advanceTimersByTime(40);
    await turn();
    expect(next.record.started).toBe(true);
    next.record.finish();
    await waiting;
    // Free again after its own rest (5 ms): a task given now waits only that long.
    jest.advanceTimersByTime(5);
    const later = task(clock, 1);
    const third = gate.run(later.run);
    await turn();
    expect(later.record.started).toBe(true);
    later.record.finish();
    await third;
  });

  it('hands a freed slot to the most urgent level first, oldest first within a level', async () => {
    const clock = { now: 0 };
    const gate = new BoundedConcurrency(1, 5, { clock: () => clock.now, levels: 3 });
    const running = task(clock, 1);
    const order: string[] = [];
    const queued = (name: string, priority: number) => {
      const t = task(clock, 1);
      const answer = gate.run(async () => {
        order.push(name);
        t.record.finish();
        return t.run();
      }, priority);
      return answer;
    };
    const first = gate.run(running.run);
    const all = [
      queued('unknown-1', 2),
      queued('campaign-known', 1),
      queued('unknown-2', 2),
      queued('client-known-1', 0),
      queued('client-known-2', 0),
    ];
    await turn();
    expect(order).toEqual([]);
    running.record.finish();
    await Promise.all([first, ...all]);
    expect(order).toEqual(['client-known-1', 'client-known-2', 'campaign-known', 'unknown-1', 'unknown-2']);
  });

  it('gives each level a queue of its own: a full one refuses only its own level', async () => {
    const clock = { now: 0 };
    const gate = new BoundedConcurrency(1, 2, { clock: () => clock.now, levels: 2 });
    const running = task(clock, 1);
    const first = gate.run(running.run);
    const flood = [task(clock, 1), task(clock, 1)];
    const floodRuns = flood.map((t) => gate.run(t.run, 1));
    await expect(gate.run(task(clock, 1).run, 1)).rejects.toBeInstanceOf(QueueFullError);
    const known = task(clock, 1);
    const knownRun = gate.run(known.run, 0);
    running.record.finish();
    await first;
    await turn();
    expect([known.record.started, ...flood.map((t) => t.record.started)]).toEqual([true, false, false]);
    known.record.finish();
    for (const t of flood) t.record.finish();
    await Promise.all([knownRun, ...floodRuns]);
  });

  it('refuses a share outside (0, 1]', () => {
    for (const share of [0, -0.5, 1.5, Number.NaN])
      expect(() => new BoundedConcurrency(1, 1, { share })).toThrow(RangeError);
  });
});
