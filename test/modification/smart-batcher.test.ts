import { SmartBatcher } from '../../src/modification/smart-batcher';

/** A batch runner whose batches end when the test says so. */
function gatedRunner() {
  const batches: Array<{ items: number[]; finish: (error?: Error) => void }> = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({ items, finish: (error) => (error ? reject(error) : resolve(items.map((i) => `done ${i}`))) });
    });
  return { batches, run };
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SmartBatcher', () => {
  it('runs a lone item at once, alone, with no timer', async () => {
    const { batches, run } = gatedRunner();
    const batcher = new SmartBatcher(run, { maxBatch: 10, maxInFlight: 1 });
    const answer = batcher.submit(1);
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0].finish();
    await expect(answer).resolves.toBe('done 1');
    expect(batcher.stats()).toEqual({ items: 1, batches: 1 });
  });

  it('queues what arrives while the batches in flight run, and the next batch takes it all, up to the bound, in order', async () => {
    const { batches, run } = gatedRunner();
    const batcher = new SmartBatcher(run, { maxBatch: 3, maxInFlight: 2 });
    const answers = [1, 2, 3, 4, 5, 6, 7].map((i) => batcher.submit(i));
    expect(batches.map((b) => b.items)).toEqual([[1], [2]]);
    batches[1].finish();
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1], [2], [3, 4, 5]]);
    batches[0].finish();
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    batches[2].finish();
    batches[3].finish();
    await expect(Promise.all(answers)).resolves.toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `done ${i}`));
    expect(batcher.stats()).toEqual({ items: 7, batches: 4 });
  });

  it('with startOnNextTurn, gathers what arrives in the same turn of the event loop into one batch', async () => {
    const { batches, run } = gatedRunner();
    const batcher = new SmartBatcher(run, { maxBatch: 10, maxInFlight: 1, startOnNextTurn: true });
    const answers = [1, 2, 3].map((i) => batcher.submit(i));
    expect(batches).toEqual([]);
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    batches[0].finish();
    await expect(Promise.all(answers)).resolves.toEqual(['done 1', 'done 2', 'done 3']);
    const lone = batcher.submit(4);
    await turn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3], [4]]);
    batches[1].finish();
    await expect(lone).resolves.toBe('done 4');
  });

  it('rejects only the items of a failed batch, and goes on', async () => {
    const { batches, run } = gatedRunner();
    const batcher = new SmartBatcher(run, { maxBatch: 5, maxInFlight: 1 });
    const first = batcher.submit(1);
    const [second, third] = [batcher.submit(2), batcher.submit(3)];
    batches[0].finish(new Error('deadlock'));
    await expect(first).rejects.toThrow('deadlock');
    await turn();
    batches[1].finish();
    await expect(Promise.all([second, third])).resolves.toEqual(['done 2', 'done 3']);
  });

  it('refuses a runner that answers the wrong number of results', async () => {
    const batcher = new SmartBatcher(async () => ['one'], { maxBatch: 5, maxInFlight: 1 });
    const lone = await batcher.submit(1);
    expect(lone).toBe('one');
    const lost = [batcher.submit(2), batcher.submit(3), batcher.submit(4)];
    await expect(lost[0]).resolves.toBe('one');
    await expect(Promise.all(lost.slice(1))).rejects.toThrow('a batch of 2 answered 1');
  });
});
