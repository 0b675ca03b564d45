/**
 * Bounded concurrency for fan-out work (one UpdateAgentRuntime per tracking runtime): at most
 * `limit` calls in flight, results in input order, and one failure never stops the others.
 */

/** Runs `fn` over `items` with at most `limit` in flight; settles every item (like Promise.allSettled). */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R> | R,
): Promise<PromiseSettledResult<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('mapWithConcurrency: limit must be an integer >= 1');
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        // A synchronous throw inside fn is a rejection of that item, not of the whole map.
        results[index] = { status: 'fulfilled', value: await fn(items[index], index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Splits settled results into values and failures, keeping each item's index. */
export function partitionSettled<R>(results: readonly PromiseSettledResult<R>[]): {
  fulfilled: { index: number; value: R }[];
  rejected: { index: number; reason: unknown }[];
} {
  const fulfilled: { index: number; value: R }[] = [];
  const rejected: { index: number; reason: unknown }[] = [];
  results.forEach((r, index) => (r.status === 'fulfilled' ? fulfilled.push({ index, value: r.value }) : rejected.push({ index, reason: r.reason })));
  return { fulfilled, rejected };
}

/** At most `limit` runs of the functions passed to `run` at once (a semaphore, first come first served). */
export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('createLimiter: limit must be an integer >= 1');
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await fn();
      } finally {
        // Hand the slot straight to the next waiter (active stays the same), or free it.
        const next = waiting.shift();
        if (next) next();
        else active--;
      }
    },
  };
}
