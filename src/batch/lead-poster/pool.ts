import { forEachConcurrently } from '../../workers/for-each-concurrently';

/**
 * Runs `work` over the items with at most `concurrency` at once, in order, starting no new item once
 * `signal` aborts or an item throws (the first error is rethrown once the items in flight settle, so
 * their results are still recorded). Resolves to the number of items whose work reported them finished.
 */
export async function runPool<T>(
  items: T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  work: (item: T) => Promise<boolean>,
): Promise<number> {
  let finished = 0;
  let failure: { error: unknown } | null = null;
  await forEachConcurrently(items, concurrency, async (item) => {
    if (signal?.aborted || failure !== null) return;
    try {
      if (await work(item)) finished++;
    } catch (error) {
      failure ??= { error };
    }
  });
  if (failure !== null) throw (failure as { error: unknown }).error;
  return finished;
}
