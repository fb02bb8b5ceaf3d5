/** Runs `fn` over the items with at most `concurrency` calls pending at once, in item order; rejects with the first failure. */
export async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
